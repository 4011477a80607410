"""Readiness against real PostgreSQL and Redis, and what it says when either is down."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from backend.api.app import create_api
from backend.core import db
from backend.core.settings import get_settings

pytestmark = pytest.mark.integration

DOCS = "https://oncall.example.org/docs"


def _configure(
    monkeypatch: pytest.MonkeyPatch, *, database_url: str, redis_url: str | None
) -> None:
    monkeypatch.setenv("ONCALL_DATABASE__URL", database_url)
    if redis_url is None:
        monkeypatch.delenv("ONCALL_REDIS__URL", raising=False)
    else:
        monkeypatch.setenv("ONCALL_REDIS__URL", redis_url)
    get_settings.cache_clear()
    db.set_engine(db.build_engine(database_url))


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_api()) as test_client:
        yield test_client
    # The conftest's engine fixture disposes whatever engine the test switched to.


def test_live_is_ok_without_touching_any_service(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    _configure(
        monkeypatch,
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{closed_port}/nothing",
        redis_url=f"redis://127.0.0.1:{closed_port}",
    )
    response = client.get("/api/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_with_postgres_and_redis_up(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, migrated_pg_database: str, redis_url: str
) -> None:
    _configure(monkeypatch, database_url=migrated_pg_database, redis_url=redis_url)
    response = client.get("/api/health/ready")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok"},
        "providers": {},  # no provider called yet (tests/api/test_ready_providers.py)
    }
    assert db.get_engine().dialect.name == "postgresql"


def test_ready_is_503_when_redis_is_down(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, pg_database: str, closed_port: int
) -> None:
    _configure(monkeypatch, database_url=pg_database, redis_url=f"redis://127.0.0.1:{closed_port}")
    response = client.get("/api/health/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body == {
        "type": f"{DOCS}/problems/service_unavailable",
        "title": "Not ready",
        "status": 503,
        "detail": "Failing checks: redis",
        "instance": "/api/health/ready",
        "code": "service_unavailable",
        "request_id": response.headers["x-request-id"],
        "checks": {"database": "ok", "redis": "failed: ConnectionError"},
    }


def test_ready_is_503_when_the_database_is_down(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, redis_url: str, closed_port: int
) -> None:
    _configure(
        monkeypatch,
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{closed_port}/nothing",
        redis_url=redis_url,
    )
    response = client.get("/api/health/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["detail"] == "Failing checks: database"
    assert body["checks"] == {"database": "failed: OperationalError", "redis": "ok"}


def test_ready_is_503_when_both_are_down(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    _configure(
        monkeypatch,
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{closed_port}/nothing",
        redis_url=f"redis://127.0.0.1:{closed_port}",
    )
    response = client.get("/api/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["detail"] == "Failing checks: database, redis"
    assert body["checks"] == {
        "database": "failed: OperationalError",
        "redis": "failed: ConnectionError",
    }


def test_ready_without_redis_configured_checks_only_the_database(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, pg_database: str
) -> None:
    _configure(monkeypatch, database_url=pg_database, redis_url=None)
    response = client.get("/api/health/ready")
    assert response.status_code == 200
    # An empty database (not migrated): reachable, so ready; the provider details say why
    # they are missing instead of failing the probe.
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok"},
        "providers": "unavailable: ProgrammingError",
    }
