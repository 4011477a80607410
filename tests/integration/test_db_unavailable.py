"""PostgreSQL down: services raise ServiceUnavailable (503 + Retry-After), never a driver error.

Also the two ways a running database goes away under a live engine: its connections are killed
(a restart or failover; the pool's pre-ping recovers without an error) and the database itself
disappears (ServiceUnavailable again).
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine, make_url

from backend.api.app import create_api
from backend.core import db
from backend.core.actor import Actor, ActorKind, PlatformRole
from backend.core.errors import ErrorCode, ServiceUnavailable
from backend.core.events import DomainEvent, InProcessEventBus
from backend.core.settings import get_settings
from backend.teams import service as teams
from backend.teams.schemas import TeamCreate
from tests.factories.identity import actor_of, make_team, make_user
from tests.integration.conftest import admin_connection

pytestmark = pytest.mark.integration

USER = Actor(
    kind=ActorKind.USER, id=1, label="someone@example.org", platform_role=PlatformRole.USER
)


@pytest.fixture
def unreachable_database(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> Iterator[str]:
    """The process-wide engine points at a PostgreSQL port nobody listens on."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port}/oncall"
    monkeypatch.setenv("ONCALL_DATABASE__URL", url)
    get_settings.cache_clear()
    db.set_engine(db.build_engine(url))
    yield url
    db.set_engine(None)


@pytest.fixture
def live_database(engine: Engine, migrated_pg_database: str) -> Iterator[Engine]:
    """The process-wide engine on this test's own migrated PostgreSQL database."""
    pg_engine = db.build_engine(migrated_pg_database)
    db.set_engine(pg_engine)
    yield pg_engine
    db.set_engine(None)


def _assert_unavailable(exc: ServiceUnavailable) -> None:
    assert exc.code is ErrorCode.SERVICE_UNAVAILABLE
    assert exc.status == 503
    assert exc.retry_after == 5
    assert exc.retryable is True
    # The driver's error is kept as the cause for the logs, not shown to the caller.
    assert isinstance(exc.__cause__, Exception)
    assert type(exc.__cause__).__name__ == "OperationalError"


@pytest.mark.usefixtures("unreachable_database")
def test_a_read_raises_service_unavailable() -> None:
    with pytest.raises(ServiceUnavailable) as caught:
        teams.list_teams(USER)
    _assert_unavailable(caught.value)


@pytest.mark.usefixtures("unreachable_database")
def test_a_command_raises_service_unavailable_and_publishes_nothing(
    bus: InProcessEventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[DomainEvent] = []
    monkeypatch.setattr(bus, "publish", published.append)
    with pytest.raises(ServiceUnavailable) as caught:
        teams.create_team(USER, TeamCreate(name="Payments"))
    _assert_unavailable(caught.value)
    assert published == []


@pytest.mark.usefixtures("unreachable_database")
def test_the_api_answers_503_problem_json_with_retry_after() -> None:
    with TestClient(create_api()) as client:
        response = client.get(
            "/api/v1/teams", headers={"Authorization": "Bearer oc_live_0123456789abcdefghijklmn"}
        )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["status"] == 503
    assert body["detail"] == "The database is unavailable; retry shortly."
    # Nothing of the driver's message (host, port, errno) reaches the client.
    assert "127.0.0.1" not in response.text
    assert "refused" not in response.text.lower()


def _terminate_other_connections(pg_url: str, database: str) -> int:
    with admin_connection(pg_url) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return len(rows)


def test_killed_connections_are_replaced_without_an_error(
    live_database: Engine, migrated_pg_database: str, pg_url: str
) -> None:
    owner = make_user("Owner")
    make_team(owner, "Payments")
    assert [t.name for t in teams.list_teams(actor_of(owner))] == ["Payments"]
    # A restart or failover: every pooled connection is dead on the server side.
    database = make_url(migrated_pg_database).database
    assert database is not None
    assert _terminate_other_connections(pg_url, database) >= 1
    assert [t.name for t in teams.list_teams(actor_of(owner))] == ["Payments"]


def test_a_database_that_disappears_gives_service_unavailable(
    live_database: Engine, migrated_pg_database: str, pg_url: str
) -> None:
    owner = make_user("Owner")
    assert teams.list_teams(actor_of(owner)) == []
    database = make_url(migrated_pg_database).database
    with admin_connection(pg_url) as conn:
        conn.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
    with pytest.raises(ServiceUnavailable) as caught:
        teams.list_teams(actor_of(owner))
    _assert_unavailable(caught.value)
    with pytest.raises(psycopg.OperationalError, match="does not exist"):
        admin_connection(migrated_pg_database).close()


# The ingest hot path (db.call_atomically) draws from a pool of its own without the pre-ping
# round trip: a dead connection is replaced and the statement sent once more instead.


def _pid_and_sum(a: int, b: int) -> tuple[int, int]:
    rows = db.call_atomically("SELECT pg_backend_pid(), %s::int + %s::int", (a, b))
    return int(rows[0][0]), int(rows[0][1])


def test_the_hot_path_replaces_killed_connections_and_sends_the_statement_once_more(
    live_database: Engine, migrated_pg_database: str, pg_url: str
) -> None:
    first_pid, total = _pid_and_sum(2, 3)
    assert total == 5
    database = make_url(migrated_pg_database).database
    assert database is not None
    assert _terminate_other_connections(pg_url, database) >= 1
    # No pre-ping would have noticed: the first attempt fails on the dead socket, the retry
    # runs on a fresh connection (a new server process), and the caller sees only the answer.
    second_pid, total = _pid_and_sum(4, 5)
    assert total == 9
    assert second_pid != first_pid


def test_the_hot_path_gives_service_unavailable_when_the_database_disappears(
    live_database: Engine, migrated_pg_database: str, pg_url: str
) -> None:
    assert _pid_and_sum(1, 1)[1] == 2
    database = make_url(migrated_pg_database).database
    with admin_connection(pg_url) as conn:
        conn.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
    with pytest.raises(ServiceUnavailable) as caught:
        _pid_and_sum(1, 1)
    _assert_unavailable(caught.value)


def test_the_hot_path_does_not_hide_a_statement_error(live_database: Engine) -> None:
    """Only a lost connection is retried: an error of the statement itself is raised as is
    (once), and the connection is usable afterwards."""
    with pytest.raises(psycopg.errors.DivisionByZero):
        db.call_atomically("SELECT 1 / %s::int", (0,))
    assert _pid_and_sum(2, 2)[1] == 4
