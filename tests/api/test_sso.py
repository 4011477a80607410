"""OIDC single sign-on end to end, against a real OpenID provider (oidc-provider-mock) on
localhost: our API → the provider's authorize form → our callback → session cookie.

The browser is played by two HTTP clients: ``TestClient`` for our app (it keeps the cookie)
and ``httpx2`` for the provider's pages (the mock's authorize endpoint takes a form POST with
the ``sub`` to sign in as; ``PUT /users/<sub>`` sets that user's claims).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from fastapi.testclient import TestClient
from oidc_provider_mock import run_server_in_thread
from sqlmodel import col, select

from backend.api.app import create_api
from backend.audit.models import AuditEntry, Severity
from backend.core import clock
from backend.core.db import unit_of_work
from backend.core.settings import get_settings
from backend.identity import oidc
from backend.identity.errors import SsoFailed
from backend.identity.models import OidcLoginState, User, UserSession
from tests.factories.identity import make_user

CLIENT_ID = "oncall-test"
CLIENT_SECRET = "client-secret-for-tests"
HOOK_SECRET = "hook-secret-for-tests"
BASE_URL = "https://testserver"
CALLBACK = f"{BASE_URL}/api/auth/sso/callback"


@pytest.fixture(scope="module")
def idp() -> Iterator[str]:
    """A real OpenID provider on a free localhost port, shared by this module's tests."""
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(autouse=True)
def sso_settings(monkeypatch: pytest.MonkeyPatch, idp: str) -> Iterator[None]:
    monkeypatch.setenv("ONCALL_BASE_URL", BASE_URL)
    monkeypatch.setenv("ONCALL_SSO__ISSUER", idp)
    monkeypatch.setenv("ONCALL_SSO__CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("ONCALL_SSO__CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("ONCALL_AUTH__IDP_HOOK_SECRET", HOOK_SECRET)
    get_settings.cache_clear()
    oidc.clear_caches()
    yield
    oidc.clear_caches()


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_api(), base_url=BASE_URL, follow_redirects=False) as test_client:
        yield test_client


# --- helpers --------------------------------------------------------------------------------


def set_claims(idp: str, sub: str, **claims: Any) -> None:
    response = httpx2.put(f"{idp}/users/{sub}", json=claims, timeout=5)
    assert response.status_code == 204


def start(client: TestClient, next_path: str = "/") -> str:
    """``/sso/start`` → the provider's authorization URL."""
    response = client.get("/api/auth/sso/start", params={"next": next_path})
    assert response.status_code == 302, response.text
    return response.headers["location"]


def authorize(authorization_url: str, sub: str) -> str:
    """Sign in as ``sub`` on the provider's form; returns the redirect back to our callback."""
    response = httpx2.post(authorization_url, data={"sub": sub}, timeout=5)
    assert response.status_code == 302, response.text
    return response.headers["location"]


def callback(client: TestClient, callback_url: str) -> Any:
    assert callback_url.startswith(CALLBACK + "?")
    return client.get(callback_url.removeprefix(BASE_URL))


def sso_login(client: TestClient, sub: str, next_path: str = "/") -> Any:
    return callback(client, authorize(start(client, next_path), sub))


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def all_rows(model: type[Any]) -> list[Any]:
    with unit_of_work() as uow:
        return list(uow.session.exec(select(model).order_by(col(model.id))))


def audit_actions() -> list[str]:
    return [entry.action for entry in all_rows(AuditEntry)]


def failed_redirect(next_path: str = "/") -> str:
    return "/login?" + urlencode({"error": "sso_failed", "next": next_path})


def signed_hook(client: TestClient, payload: dict[str, Any]) -> Any:
    body = json.dumps(payload).encode()
    timestamp = str(int(time.time()))
    digest = hmac.new(HOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return client.post(
        "/api/v1/idp/events",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-OnCall-Timestamp": timestamp,
            "X-OnCall-Signature": f"v1={digest.hexdigest()}",
        },
    )


# --- the happy path -------------------------------------------------------------------------


def test_start_redirects_to_the_provider_with_pkce_nonce_and_state(
    client: TestClient, idp: str
) -> None:
    location = start(client, "/incidents/7")

    assert location.startswith(f"{idp}/oauth2/authorize?")
    params = query_of(location)
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == CALLBACK
    assert params["scope"] == "openid email profile"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43  # base64url(SHA-256), unpadded
    [pending] = all_rows(OidcLoginState)
    assert pending.state_hash == hashlib.sha256(params["state"].encode()).hexdigest()
    assert pending.nonce == params["nonce"]
    assert pending.return_to == "/incidents/7"
    assert pending.expires_at - clock.now() <= timedelta(minutes=10)
    assert pending.expires_at - clock.now() > timedelta(minutes=9)


def test_first_login_creates_the_user_and_the_second_reuses_it(
    client: TestClient, idp: str
) -> None:
    set_claims(idp, "okta-00u1", email="Ada@Example.org", email_verified=True, name="Ada L")

    response = sso_login(client, "okta-00u1", "/schedules")

    assert response.status_code == 303
    assert response.headers["location"] == "/schedules"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("oncall_session=")
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=lax" in cookie
    me = client.get("/api/auth/me")
    assert me.status_code == 200
    body = me.json()
    assert (body["email"], body["name"], body["platform_role"], body["is_active"]) == (
        "ada@example.org",
        "Ada L",
        "USER",
        True,
    )
    [user] = all_rows(User)
    assert (user.oidc_issuer, user.oidc_subject) == (idp, "okta-00u1")
    [session] = all_rows(UserSession)
    assert (session.user_id, session.auth_method, session.revoked_at) == (user.id, "sso", None)
    assert all_rows(OidcLoginState) == []
    assert audit_actions() == ["identity.user.created", "identity.sso.login_succeeded"]

    client.cookies.clear()
    again = sso_login(client, "okta-00u1")

    assert again.status_code == 303
    assert again.headers["location"] == "/"
    assert client.get("/api/auth/me").json()["id"] == user.id
    assert [u.id for u in all_rows(User)] == [user.id]
    assert len(all_rows(UserSession)) == 2
    assert audit_actions() == [
        "identity.user.created",
        "identity.sso.login_succeeded",
        "identity.sso.login_succeeded",
    ]


def test_logout_ends_the_sso_session(client: TestClient, idp: str) -> None:
    set_claims(idp, "sub-logout", email="bo@example.org", email_verified=True, name="Bo")
    assert sso_login(client, "sub-logout").status_code == 303
    assert client.get("/api/auth/me").status_code == 200
    token = client.cookies.get("oncall_session")

    response = client.post("/api/auth/logout")

    assert response.status_code == 303
    client.cookies.set("oncall_session", token or "")
    me = client.get("/api/auth/me")
    assert me.status_code == 401
    assert me.json()["code"] == "session_expired"
    [session] = all_rows(UserSession)
    assert session.revoked_at is not None


def test_existing_user_is_linked_by_verified_email(client: TestClient, idp: str) -> None:
    existing = make_user("Cy Existing", email="cy@example.org")
    set_claims(idp, "kc-cy", email="cy@example.org", email_verified=True, name="Cy From IdP")

    response = sso_login(client, "kc-cy")

    assert response.status_code == 303
    assert client.get("/api/auth/me").json()["id"] == existing.id
    [user] = all_rows(User)
    assert (user.id, user.name, user.oidc_issuer, user.oidc_subject) == (
        existing.id,
        "Cy Existing",
        idp,
        "kc-cy",
    )
    assert audit_actions() == ["identity.user.sso_linked", "identity.sso.login_succeeded"]
    [linked, _] = all_rows(AuditEntry)
    assert linked.severity is Severity.HIGH
    assert linked.diff == {"oidc_issuer": [None, idp], "oidc_subject": [None, "kc-cy"]}


@pytest.mark.parametrize(
    ("_case", "claims"),
    [
        ("email_verified_false", {"email": "di@example.org", "email_verified": False}),
        ("email_verified_missing", {"email": "di@example.org"}),
    ],
)
def test_unverified_email_never_takes_over_an_existing_account(
    client: TestClient, idp: str, _case: str, claims: dict[str, Any]
) -> None:
    existing = make_user("Di", email="di@example.org")
    set_claims(idp, f"attacker-{_case}", **claims)

    response = sso_login(client, f"attacker-{_case}")

    assert response.status_code == 303
    assert response.headers["location"] == failed_redirect()
    assert "set-cookie" not in response.headers
    assert all_rows(UserSession) == []
    [user] = all_rows(User)
    assert (user.id, user.oidc_subject) == (existing.id, None)
    [refused] = all_rows(AuditEntry)
    assert (refused.action, refused.severity, refused.diff) == (
        "identity.sso.login_refused",
        Severity.HIGH,
        {"reason": "email_not_verified"},
    )


def test_email_linked_to_another_subject_is_refused(client: TestClient, idp: str) -> None:
    set_claims(idp, "first-sub", email="eve@example.org", email_verified=True, name="Eve")
    assert sso_login(client, "first-sub").status_code == 303
    client.cookies.clear()
    set_claims(idp, "second-sub", email="eve@example.org", email_verified=True, name="Eve 2")

    response = sso_login(client, "second-sub")

    assert response.headers["location"] == failed_redirect()
    [user] = all_rows(User)
    assert user.oidc_subject == "first-sub"
    assert len(all_rows(UserSession)) == 1
    assert audit_actions()[-1] == "identity.sso.login_refused"


def test_no_email_from_the_provider_creates_no_user(
    client: TestClient, idp: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the `email` scope neither the ID token nor userinfo carries the address.
    monkeypatch.setenv("ONCALL_SSO__SCOPES", "openid profile")
    get_settings.cache_clear()
    set_claims(idp, "sub-noemail", email="ne@example.org", email_verified=True, name="Ne")

    response = sso_login(client, "sub-noemail")

    assert response.headers["location"] == failed_redirect()
    assert all_rows(User) == []
    assert all_rows(UserSession) == []
    [refused] = all_rows(AuditEntry)
    assert (refused.action, refused.target_label, refused.diff) == (
        "identity.sso.login_refused",
        "sub-noemail",
        {"reason": "no_email"},
    )


# --- protocol failures ----------------------------------------------------------------------


def _assert_no_sign_in(response: Any, next_path: str = "/") -> None:
    assert response.status_code == 303
    assert response.headers["location"] == failed_redirect(next_path)
    assert "set-cookie" not in response.headers
    assert all_rows(UserSession) == []
    assert all_rows(User) == []
    assert "identity.sso.login_succeeded" not in audit_actions()


@pytest.mark.parametrize("_case", ["tampered", "empty", "absent"])
def test_unknown_state_fails_without_a_session(client: TestClient, idp: str, _case: str) -> None:
    set_claims(idp, "sub-state", email="st@example.org", email_verified=True)
    callback_url = authorize(start(client, "/x"), "sub-state")
    params = query_of(callback_url)
    real = params["state"]
    tampered = real[:-1] + ("B" if real.endswith("A") else "A")  # always a different state
    state = {"tampered": tampered, "empty": "", "absent": None}[_case]
    query = {"code": params["code"]} | ({} if state is None else {"state": state})

    response = client.get("/api/auth/sso/callback", params=query)

    _assert_no_sign_in(response)
    assert len(all_rows(OidcLoginState)) == 1  # the real pending login is untouched


def test_replayed_state_fails(client: TestClient, idp: str) -> None:
    set_claims(idp, "sub-replay", email="re@example.org", email_verified=True)
    callback_url = authorize(start(client, "/replay"), "sub-replay")
    assert callback(client, callback_url).headers["location"] == "/replay"
    client.cookies.clear()

    replay = callback(client, callback_url)

    assert replay.status_code == 303
    assert replay.headers["location"] == failed_redirect()
    assert "set-cookie" not in replay.headers
    assert len(all_rows(UserSession)) == 1


def test_expired_pending_login_fails_and_is_consumed(client: TestClient, idp: str) -> None:
    set_claims(idp, "sub-late", email="late@example.org", email_verified=True)
    callback_url = authorize(start(client), "sub-late")
    with unit_of_work() as uow:
        [pending] = uow.session.exec(select(OidcLoginState)).all()
        pending.expires_at = clock.now() - timedelta(seconds=1)
        uow.session.add(pending)

    response = callback(client, callback_url)

    _assert_no_sign_in(response)
    assert all_rows(OidcLoginState) == []


def test_id_token_with_another_nonce_is_rejected(client: TestClient, idp: str) -> None:
    set_claims(idp, "sub-nonce", email="no@example.org", email_verified=True)
    callback_url = authorize(start(client, "/n"), "sub-nonce")
    with unit_of_work() as uow:
        [pending] = uow.session.exec(select(OidcLoginState)).all()
        pending.nonce = "not-the-nonce-the-provider-saw"
        uow.session.add(pending)

    response = callback(client, callback_url)

    _assert_no_sign_in(response, "/n")


def test_code_issued_to_another_client_is_refused_by_the_provider(
    client: TestClient, idp: str
) -> None:
    set_claims(idp, "sub-client", email="cl@example.org", email_verified=True)
    location = start(client)
    params = query_of(location) | {"client_id": "someone-else"}
    swapped = f"{idp}/oauth2/authorize?{urlencode(params)}"

    response = callback(client, authorize(swapped, "sub-client"))

    _assert_no_sign_in(response)


def test_provider_reported_error_fails_and_consumes_the_state(client: TestClient, idp: str) -> None:
    authorization_url = start(client, "/d")
    denied = httpx2.post(authorization_url, data={"action": "deny"}, timeout=5)
    assert denied.status_code == 302
    assert query_of(denied.headers["location"])["error"] == "access_denied"
    # oidc-provider-mock 0.3.4 leaves `state` off its error redirect (RFC 6749 4.1.2.1 wants
    # it): without it we cannot know the pending login, so it just expires.
    without_state = callback(client, denied.headers["location"])
    _assert_no_sign_in(without_state, "/")
    assert len(all_rows(OidcLoginState)) == 1

    # A compliant provider echoes the state: the pending login is consumed with the error.
    state = query_of(authorization_url)["state"]
    response = callback(client, f"{denied.headers['location']}&{urlencode({'state': state})}")

    _assert_no_sign_in(response, "/d")
    assert all_rows(OidcLoginState) == []


def test_open_redirects_are_not_followed(client: TestClient, idp: str) -> None:
    set_claims(idp, "sub-next", email="nx@example.org", email_verified=True)

    response = sso_login(client, "sub-next", "//evil.example/steal")

    assert response.headers["location"] == "/"


def _provider_token(idp: str, client_id: str, nonce: str) -> dict[str, Any]:
    """A real ID token the provider issues to some other relying party."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": "https://other.example/callback",
        "scope": "openid email",
        "state": "s",
        "nonce": nonce,
    }
    set_claims(idp, "sub-aud", email="aud@example.org", email_verified=True)
    back = authorize(f"{idp}/oauth2/authorize?{urlencode(params)}", "sub-aud")
    code = query_of(back)["code"]
    response = httpx2.post(
        f"{idp}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": params["redirect_uri"],
        },
        auth=(client_id, "whatever"),
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_id_token_validation_checks_audience_nonce_issuer_and_signature(idp: str) -> None:
    token = _provider_token(idp, "other-app", nonce="n-1")
    metadata = oidc.provider_metadata(idp)
    id_token = token["id_token"]

    # Control: the same token is valid for the party it was issued to.
    claims = oidc.validate_id_token(
        id_token,
        metadata=metadata,
        client_id="other-app",
        nonce="n-1",
        access_token=token["access_token"],
    )
    assert (claims["sub"], claims["aud"], claims["iss"]) == ("sub-aud", ["other-app"], idp)

    with pytest.raises(SsoFailed) as wrong_audience:
        oidc.validate_id_token(id_token, metadata=metadata, client_id=CLIENT_ID, nonce="n-1")
    with pytest.raises(SsoFailed):
        oidc.validate_id_token(id_token, metadata=metadata, client_id="other-app", nonce="n-2")
    other_issuer = oidc.ProviderMetadata(**{**vars(metadata), "issuer": "https://evil.example"})
    with pytest.raises(SsoFailed):
        oidc.validate_id_token(id_token, metadata=other_issuer, client_id="other-app", nonce="n-1")
    header, payload, signature = id_token.split(".")
    forged = (
        f"{header}.{payload}.{signature[:-4]}{'BBBB' if signature.endswith('AAAA') else 'AAAA'}"
    )
    with pytest.raises(SsoFailed):
        oidc.validate_id_token(forged, metadata=metadata, client_id="other-app", nonce="n-1")
    assert wrong_audience.value.code == "sso_failed"


# --- configuration --------------------------------------------------------------------------


def test_sso_endpoints_are_404_when_sso_is_not_configured(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ONCALL_SSO__ISSUER")
    get_settings.cache_clear()

    started = client.get("/api/auth/sso/start")
    returned = client.get("/api/auth/sso/callback", params={"code": "c", "state": "s"})

    for response in (started, returned):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "sso_not_configured"
    assert all_rows(OidcLoginState) == []


def test_unreachable_provider_sends_the_browser_back_to_login(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("ONCALL_SSO__ISSUER", f"http://127.0.0.1:{closed_port}")
    get_settings.cache_clear()

    response = client.get("/api/auth/sso/start", params={"next": "/p"})

    assert response.status_code == 303
    assert response.headers["location"] == failed_redirect("/p")
    assert all_rows(OidcLoginState) == []


# --- with the IdP event hook ----------------------------------------------------------------


def test_hook_revocation_signs_the_user_out(client: TestClient, idp: str) -> None:
    set_claims(idp, "sub-hook", email="hk@example.org", email_verified=True)
    assert sso_login(client, "sub-hook").status_code == 303
    assert client.get("/api/auth/me").status_code == 200

    hook = signed_hook(client, {"event": "user.sessions.revoke", "subject": "sub-hook"})

    assert hook.status_code == 200
    assert hook.json()["sessions_revoked"] == 1
    me = client.get("/api/auth/me")
    assert me.status_code == 401
    assert me.json()["code"] == "session_expired"


def test_deactivated_user_cannot_sign_in_again_until_reactivated(
    client: TestClient, idp: str
) -> None:
    set_claims(idp, "sub-leaver", email="lv@example.org", email_verified=True)
    assert sso_login(client, "sub-leaver").status_code == 303
    deactivated = signed_hook(client, {"event": "user.deactivated", "subject": "sub-leaver"})
    assert deactivated.json()["sessions_revoked"] == 1
    client.cookies.clear()

    refused = sso_login(client, "sub-leaver")

    assert refused.headers["location"] == failed_redirect()
    assert "set-cookie" not in refused.headers
    assert client.get("/api/auth/me").status_code == 401
    assert len(all_rows(UserSession)) == 1
    assert audit_actions()[-1] == "identity.sso.login_refused"
    assert all_rows(AuditEntry)[-1].diff == {"reason": "deactivated"}

    signed_hook(client, {"event": "user.reactivated", "email": "lv@example.org"})
    assert sso_login(client, "sub-leaver").headers["location"] == "/"
    assert client.get("/api/auth/me").status_code == 200
