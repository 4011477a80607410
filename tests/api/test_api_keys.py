"""API keys on /api/v1: valid, revoked, expired, wrong scope, usage tracking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.apikeys import service as apikeys
from backend.apikeys.models import ApiKey
from backend.apikeys.schemas import ApiKeyCreate
from backend.apikeys.scopes import Scope
from backend.audit.models import AuditEntry
from backend.core.actor import Actor
from backend.core.db import unit_of_work
from backend.core.errors import PermissionDenied, ValidationFailed
from backend.core.secrets import sha256_hex
from backend.core.validation import parse
from tests.api.conftest import bearer, issue_key
from tests.factories.identity import actor_of, make_user

PROBLEM = "application/problem+json"


def assert_problem(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(f"/problems/{code}")
    return body  # type: ignore[no-any-return]


def test_key_is_shown_once_and_stored_as_sha256() -> None:
    created = apikeys.create_key(
        Actor.cli(), ApiKeyCreate(name="ci", scopes=[Scope.TEAMS_READ, Scope.TEAMS_READ])
    )
    assert created.key.startswith("oc_api_")
    assert len(created.key) == len("oc_api_") + 40
    assert created.display_prefix == created.key[:13]
    assert created.scopes == ["teams:read"]
    with unit_of_work() as uow:
        row = uow.session.exec(select(ApiKey)).one()
        entry = uow.session.exec(select(AuditEntry)).one()
    assert row.key_hash == sha256_hex(created.key)
    assert created.key not in row.model_dump_json()
    assert (entry.action, entry.severity) == ("apikeys.key.created", "HIGH")
    assert created.key not in entry.model_dump_json()
    listed = apikeys.list_keys(Actor.cli())
    assert "key" not in listed[0].model_dump()


def test_only_platform_admins_manage_keys() -> None:
    user = make_user()
    with pytest.raises(PermissionDenied):
        apikeys.create_key(actor_of(user), ApiKeyCreate(name="x", scopes=[Scope.TEAMS_READ]))
    with pytest.raises(PermissionDenied):
        apikeys.list_keys(actor_of(user))
    with unit_of_work() as uow:
        assert list(uow.session.exec(select(ApiKey))) == []


def test_valid_key_reads_and_usage_is_counted(client: TestClient) -> None:
    key = issue_key(Scope.TEAMS_READ)
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), tick=False):
        for _ in range(3):
            response = client.get("/api/v1/teams", headers=bearer(key))
            assert response.status_code == 200
            assert response.json() == []
    [listed] = apikeys.list_keys(Actor.cli())
    assert listed.use_count == 3
    assert listed.last_used_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert listed.status == "active"


@pytest.mark.parametrize(
    ("_case", "headers"),
    [
        ("missing", {}),
        ("not bearer", {"Authorization": "Basic abc"}),
        ("unknown", {"Authorization": "Bearer oc_api_" + "x" * 40}),
        ("foreign format", {"Authorization": "Bearer sk_live_123"}),
    ],
)
def test_bad_keys_get_401_problem(client: TestClient, _case: str, headers: dict[str, str]) -> None:
    response = client.get("/api/v1/teams", headers=headers)
    body = assert_problem(response, 401, "invalid_api_key")
    assert response.headers["www-authenticate"] == 'Bearer realm="oncall"'
    assert body["instance"] == "/api/v1/teams"


def test_revoked_key_is_refused_at_once(client: TestClient) -> None:
    key = issue_key(Scope.TEAMS_READ)
    assert client.get("/api/v1/teams", headers=bearer(key)).status_code == 200
    [row] = apikeys.list_keys(Actor.cli())
    apikeys.revoke_key(Actor.cli(), row.id)
    assert_problem(client.get("/api/v1/teams", headers=bearer(key)), 401, "invalid_api_key")
    assert apikeys.list_keys(Actor.cli())[0].status == "revoked"


def test_expired_key_is_refused(client: TestClient) -> None:
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), tick=False) as clock:
        key = issue_key(Scope.TEAMS_READ, expires_at=datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
        assert client.get("/api/v1/teams", headers=bearer(key)).status_code == 200
        clock.shift(timedelta(days=1))
        assert_problem(client.get("/api/v1/teams", headers=bearer(key)), 401, "invalid_api_key")
        assert apikeys.list_keys(Actor.cli())[0].status == "expired"


def test_wrong_scope_is_403_and_changes_nothing(client: TestClient) -> None:
    key = issue_key(Scope.USERS_READ)
    assert_problem(client.get("/api/v1/teams", headers=bearer(key)), 403, "insufficient_scope")
    read_only = issue_key(Scope.TEAMS_READ)
    response = client.post("/api/v1/teams", headers=bearer(read_only), json={"name": "Core"})
    assert_problem(response, 403, "insufficient_scope")
    ok = client.get("/api/v1/teams", headers=bearer(read_only))
    assert ok.json() == []


def test_write_scope_implies_read(client: TestClient) -> None:
    key = issue_key(Scope.TEAMS_WRITE)
    assert client.get("/api/v1/teams", headers=bearer(key)).status_code == 200


@pytest.mark.parametrize(
    ("_case", "data"),
    [
        ("no scopes", {"name": "x", "scopes": []}),
        ("unknown scope", {"name": "x", "scopes": ["root"]}),
        ("past expiry", {"name": "x", "scopes": ["teams:read"], "expires_at": "2000-01-01T00:00Z"}),
        ("naive expiry", {"name": "x", "scopes": ["teams:read"], "expires_at": "2099-01-01T00:00"}),
    ],
)
def test_invalid_key_requests_are_refused(_case: str, data: dict[str, object]) -> None:
    with pytest.raises(ValidationFailed):
        parse(ApiKeyCreate, data)
