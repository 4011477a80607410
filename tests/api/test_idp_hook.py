"""The identity provider's signed event hook: ``POST /api/v1/idp/events``.

The end-to-end cases with a real SSO login are in ``test_sso.py``; here sessions are opened
through the same service the login uses, and the hook's contract is checked exactly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import col, select

from backend.api.app import create_api
from backend.audit.models import AuditEntry, Severity
from backend.core.db import unit_of_work
from backend.core.settings import get_settings
from backend.identity import sessions
from backend.identity.models import User
from tests.factories.identity import make_user

SECRET = "hook-secret-for-tests"
ISSUER = "https://idp.example.org/oauth2/default"
URL = "/api/v1/idp/events"
FROZEN = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def hook_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONCALL_AUTH__IDP_HOOK_SECRET", SECRET)
    monkeypatch.setenv("ONCALL_SSO__ISSUER", ISSUER + "/")  # stored without the slash
    monkeypatch.setenv("ONCALL_SSO__CLIENT_ID", "oncall")
    get_settings.cache_clear()


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_api(), base_url="https://testserver") as test_client:
        yield test_client


@dataclass(frozen=True)
class Linked:
    id: int
    tokens: list[str]


def make_linked_user(email: str, subject: str, issuer: str = ISSUER, n_sessions: int = 2) -> Linked:
    created = make_user(email.split("@")[0].title(), email=email)
    with unit_of_work() as uow:
        row = uow.session.get(User, created.id)
        assert row is not None
        assert row.id is not None
        row.oidc_issuer, row.oidc_subject = issuer, subject
        uow.session.add(row)
        tokens = [
            sessions.open_session(uow, row, method="sso", ip="10.0.0.1", user_agent="t")
            for _ in range(n_sessions)
        ]
        return Linked(id=row.id, tokens=tokens)


@pytest.fixture
def user() -> Linked:
    """An SSO-linked user with two open sessions."""
    return make_linked_user("grace@example.org", "00u-grace")


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def post(
    client: TestClient,
    body: bytes,
    *,
    timestamp: str | None = None,
    signature: str | None = None,
    omit: tuple[str, ...] = (),
) -> Any:
    ts = timestamp if timestamp is not None else str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-OnCall-Timestamp": ts,
        "X-OnCall-Signature": signature if signature is not None else sign(body, ts),
    }
    for name in omit:
        del headers[name]
    return client.post(URL, content=body, headers=headers)


def event(name: str, **who: str) -> bytes:
    return json.dumps({"event": name, **who}).encode()


def audit_rows() -> list[AuditEntry]:
    with unit_of_work() as uow:
        return list(uow.session.exec(select(AuditEntry).order_by(col(AuditEntry.id))))


def reload(user_id: int | None) -> User:
    with unit_of_work() as uow:
        row = uow.session.get(User, user_id)
        assert row is not None
        return row


def valid_sessions(user: Linked) -> list[bool]:
    return [sessions.is_valid(token) for token in user.tokens]


# --- events ---------------------------------------------------------------------------------


def test_revoke_by_subject_revokes_every_session_and_is_idempotent(
    client: TestClient, user: Linked
) -> None:
    response = post(client, event("user.sessions.revoke", subject="00u-grace"))

    assert response.status_code == 200
    assert response.json() == {"user_id": user.id, "sessions_revoked": 2, "is_active": True}
    assert valid_sessions(user) == [False, False]
    [entry] = audit_rows()
    assert (entry.action, entry.severity, entry.actor_type, entry.actor_label) == (
        "identity.session.revoked_all",
        Severity.HIGH,
        "system",
        "idp_hook",
    )
    assert (entry.target_id, entry.diff) == (str(user.id), {"reason": "idp_hook", "sessions": 2})

    again = post(client, event("user.sessions.revoke", subject="00u-grace"))

    assert again.status_code == 200
    assert again.json() == {"user_id": user.id, "sessions_revoked": 0, "is_active": True}
    assert reload(user.id).is_active is True


def test_deactivate_by_email_then_reactivate(client: TestClient, user: Linked) -> None:
    response = post(client, event("user.deactivated", email="Grace@Example.org"))

    assert response.status_code == 200
    assert response.json() == {"user_id": user.id, "sessions_revoked": 2, "is_active": False}
    assert reload(user.id).is_active is False
    assert valid_sessions(user) == [False, False]
    assert [(e.action, e.severity) for e in audit_rows()] == [
        ("identity.user.deactivated", Severity.HIGH),
        ("identity.session.revoked_all", Severity.HIGH),
    ]

    repeat = post(client, event("user.deactivated", subject="00u-grace"))

    assert repeat.json() == {"user_id": user.id, "sessions_revoked": 0, "is_active": False}
    assert len(audit_rows()) == 2  # nothing changed, nothing recorded

    back = post(client, event("user.reactivated", subject="00u-grace"))

    assert back.status_code == 200
    assert back.json() == {"user_id": user.id, "sessions_revoked": 0, "is_active": True}
    assert reload(user.id).is_active is True
    assert valid_sessions(user) == [False, False]  # reactivation does not revive sessions
    assert [e.action for e in audit_rows()][-1] == "identity.user.reactivated"
    post(client, event("user.reactivated", subject="00u-grace"))
    assert len(audit_rows()) == 3


def test_signature_covers_the_exact_raw_bytes(client: TestClient, user: Linked) -> None:
    body = b'{ "subject" : "00u-grace",\n  "event": "user.sessions.revoke" }'

    response = post(client, body)

    assert response.status_code == 200
    assert response.json()["sessions_revoked"] == 2


@pytest.mark.parametrize("offset", [-300, 60])
def test_timestamps_at_the_edges_of_the_window_are_accepted(
    client: TestClient, user: Linked, offset: int
) -> None:
    with time_machine.travel(FROZEN, tick=False):
        response = post(
            client,
            event("user.sessions.revoke", subject="00u-grace"),
            timestamp=str(int(FROZEN.timestamp()) + offset),
        )

    assert response.status_code == 200


# --- refusals: nothing changes --------------------------------------------------------------


def _assert_nothing_changed(user: Linked) -> None:
    assert valid_sessions(user) == [True, True]
    assert reload(user.id).is_active is True
    assert audit_rows() == []


@pytest.mark.parametrize(
    ("_case", "kwargs"),
    [
        ("wrong_secret", {"signature": "sign-with:other-secret"}),
        ("garbage_signature", {"signature": "v1=deadbeef"}),
        ("stale_timestamp", {"timestamp": "stale"}),
        ("future_timestamp", {"timestamp": "future"}),
        ("non_numeric_timestamp", {"timestamp": "yesterday"}),
        ("missing_timestamp", {"omit": ("X-OnCall-Timestamp",)}),
        ("missing_signature", {"omit": ("X-OnCall-Signature",)}),
        ("missing_both", {"omit": ("X-OnCall-Timestamp", "X-OnCall-Signature")}),
    ],
)
def test_bad_signatures_are_401_and_change_nothing(
    client: TestClient, user: Linked, _case: str, kwargs: dict[str, Any]
) -> None:
    body = event("user.deactivated", subject="00u-grace")
    now = int(FROZEN.timestamp())
    if kwargs.get("signature") == "sign-with:other-secret":
        kwargs["signature"] = sign(body, str(now), "not-the-secret")
        kwargs["timestamp"] = str(now)
    if kwargs.get("timestamp") in ("stale", "future"):
        ts = str(now - 301 if kwargs["timestamp"] == "stale" else now + 61)
        kwargs["timestamp"], kwargs["signature"] = ts, sign(body, ts)  # correctly signed

    with time_machine.travel(FROZEN, tick=False):
        response = post(client, body, **kwargs)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_signature"
    _assert_nothing_changed(user)


def test_body_tampered_after_signing_is_401(client: TestClient, user: Linked) -> None:
    ts = str(int(time.time()))
    signed = event("user.sessions.revoke", subject="00u-grace")
    tampered = event("user.deactivated", subject="00u-grace")

    response = post(client, tampered, timestamp=ts, signature=sign(signed, ts))

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"
    _assert_nothing_changed(user)


def test_hook_is_404_when_no_secret_is_configured(
    client: TestClient, user: Linked, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ONCALL_AUTH__IDP_HOOK_SECRET")
    get_settings.cache_clear()

    response = post(client, event("user.deactivated", subject="00u-grace"))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    _assert_nothing_changed(user)


@pytest.mark.parametrize(
    ("_case", "body", "loc"),
    [
        ("not_json", b"{nope", ["body"]),
        ("unknown_event", event("user.promoted", subject="00u-grace"), ["body", "event"]),
        ("no_event", json.dumps({"subject": "00u-grace"}).encode(), ["body", "event"]),
        ("nobody", event("user.deactivated"), ["body"]),
        ("not_an_object", b"[1, 2]", ["body"]),
    ],
)
def test_bad_bodies_are_422_with_field_errors(
    client: TestClient, user: Linked, _case: str, body: bytes, loc: list[str]
) -> None:
    response = post(client, body)

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert [error["loc"] for error in problem["errors"]] == [loc]
    _assert_nothing_changed(user)


@pytest.mark.parametrize(
    ("_case", "who"),
    [
        ("unknown_subject", {"subject": "00u-nobody"}),
        ("unknown_email", {"email": "nobody@example.org"}),
    ],
)
def test_unknown_user_is_404(
    client: TestClient, user: Linked, _case: str, who: dict[str, str]
) -> None:
    response = post(client, event("user.deactivated", **who))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    _assert_nothing_changed(user)


def test_subject_is_matched_only_at_the_configured_issuer(client: TestClient, user: Linked) -> None:
    other = make_linked_user("hal@example.org", "00u-hal", issuer="https://old-idp.example.org")

    response = post(client, event("user.sessions.revoke", subject="00u-hal"))

    assert response.status_code == 404
    assert valid_sessions(other) == [True, True]
    _assert_nothing_changed(user)


def test_oversized_body_is_413_and_changes_nothing(client: TestClient, user: Linked) -> None:
    body = json.dumps({"event": "user.deactivated", "subject": "00u-grace", "pad": "x" * 70_000})

    response = post(client, body.encode())

    assert response.status_code == 413
    assert response.json()["code"] == "validation_failed"
    _assert_nothing_changed(user)
