"""Escalation survives a killed worker and a flushed Redis (ROUTE-02, DESIGN "nothing lost").

Real ``python -m dramatiq jobs.actors`` worker processes on this test's own Redis logical
database and its own migrated PostgreSQL database. To keep the tests short, policy minutes
are scaled with ``ONCALL_ESCALATION__MINUTE_SECONDS=1`` (TESTS ONLY: one policy minute lasts
one second) and the sweeper's grace is one second. The periodic sweeper is driven by the
test: it sends ``SWEEP_ESCALATIONS`` through Redis every half second, as ``jobs/scheduler.py``
does every 15 s in production, and the worker's actor runs it.

Each test ends by checking the books: every due page was requested exactly once, at or after
its due time, and none after the acknowledgement.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dramatiq
import pytest
import redis
from cryptography.fernet import Fernet
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from sqlmodel import col, select

from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceCreate
from backend.core import db
from backend.core.db import unit_of_work
from backend.core.jobs import JobName, enqueue
from backend.core.settings import get_settings
from backend.escalation.models import PageRequest
from backend.escalation.policy import TargetKind
from backend.incidents import service as incidents
from backend.incidents.models import EscalationState, Incident, IncidentEvent, IncidentEventKind
from backend.ingest import cache, integrations
from backend.ingest.models import IntegrationType
from backend.ingest.schemas import IntegrationCreate, IntegrationSecret
from jobs.broker import build_broker
from tests.factories.escalation import make_policy
from tests.factories.identity import actor_of
from tests.factories.ingest import send_generic
from tests.factories.schedules import Crew, make_crew
from tests.support.workers import WORKER_START_TIMEOUT_S, Workers, wait_until

pytestmark = pytest.mark.integration

TIMEOUT_MINUTES = 2  # per level; two seconds each with the scaled minute


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_own_db: int, migrated_pg_database: str
) -> Iterator[dict[str, str]]:
    parts = urlsplit(redis_url)
    values = {
        "ONCALL_DATABASE__URL": migrated_pg_database,
        "ONCALL_REDIS__URL": f"redis://{parts.hostname or '127.0.0.1'}:{parts.port or 6379}",
        "ONCALL_REDIS__BROKER_DB": str(redis_own_db),
        "ONCALL_SECRET_KEY": Fernet.generate_key().decode(),
        "ONCALL_OBSERVABILITY__LOG_JSON": "false",
        "ONCALL_ESCALATION__MINUTE_SECONDS": "1",
        "ONCALL_ESCALATION__SWEEP_GRACE_SECONDS": "1",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    engine = db.build_engine(migrated_pg_database)
    db.set_engine(engine)
    cache.clear_all()
    try:
        yield values
    finally:
        db.set_engine(None)
        cache.clear_all()


@pytest.fixture
def broker(env: dict[str, str], stub_broker: StubBroker) -> Iterator[RedisBroker]:
    redis_broker = build_broker(get_settings())
    assert isinstance(redis_broker, RedisBroker)
    dramatiq.set_broker(redis_broker)
    try:
        yield redis_broker
    finally:
        dramatiq.set_broker(stub_broker)
        redis_broker.close()


@pytest.fixture
def workers(env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    handle = Workers(env, tmp_path)
    try:
        yield handle
    finally:
        handle.stop_all()


_wait = wait_until


def _sweep() -> None:
    # What jobs/scheduler.py sends every 15 s in production.
    enqueue(JobName.SWEEP_ESCALATIONS)


def _pages(incident_id: int) -> list[tuple[int, int, int, datetime]]:
    with unit_of_work() as uow:
        rows = uow.session.exec(
            select(PageRequest)
            .where(PageRequest.incident_id == incident_id)
            .order_by(col(PageRequest.id))
        ).all()
        return [(p.user_id, p.level, p.repeat, p.created_at) for p in rows]


def _setup() -> tuple[Crew, IntegrationSecret]:
    crew = make_crew()
    policy_id = make_policy(
        crew.team_id,
        levels=[
            [(TargetKind.USER, crew.id("ann"))],
            [(TargetKind.USER, crew.id("ben"))],
            [(TargetKind.USER, crew.id("cat"))],
        ],
        timeouts=[TIMEOUT_MINUTES] * 3,
        repeat=2,
        actor=actor_of(crew.admin),
    )
    service_id = catalog.create_service(
        actor_of(crew.admin),
        ServiceCreate(name="Db", team_id=crew.team_id, escalation_policy_id=policy_id),
    ).id
    created = integrations.create_integration(
        actor_of(crew.admin),
        IntegrationCreate(name="G", type=IntegrationType.GENERIC, service_id=service_id),
    )
    return crew, created


def _check_books(crew: Crew, incident_id: int, opened_at: datetime) -> None:
    """Ann then Ben, each exactly once, each at or after its due time, nothing after the ack."""
    time.sleep(3 * TIMEOUT_MINUTES)  # past when the next levels would have been due
    pages = _pages(incident_id)
    with unit_of_work() as uow:
        incident = uow.session.get(Incident, incident_id)
        assert incident is not None
        kinds = uow.session.exec(
            select(IncidentEvent.kind)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(col(IncidentEvent.id))
        ).all()
    assert [(user, level, repeat) for user, level, repeat, _ in pages] == [
        (crew.id("ann"), 0, 0),
        (crew.id("ben"), 1, 0),
    ]
    ann_at, ben_at = pages[0][3], pages[1][3]
    assert ann_at >= opened_at
    assert ben_at - ann_at >= timedelta(seconds=TIMEOUT_MINUTES)
    assert incident.acknowledged_at is not None
    assert ben_at <= incident.acknowledged_at
    assert (incident.escalation_state, incident.escalation_token) == (EscalationState.STOPPED, None)
    after_ack = kinds[kinds.index(IncidentEventKind.ACKNOWLEDGED) :]
    assert IncidentEventKind.PAGE_REQUESTED not in after_ack


def test_sigkill_mid_escalation_and_the_next_step_still_fires(
    broker: RedisBroker, workers: Workers
) -> None:
    crew, created = _setup()
    first = workers.start()
    incident_id = send_generic(created, {"title": "down", "dedup_key": "k"}).alerts[0].incident_id
    assert incident_id is not None
    opened_at = _opened_at(incident_id)
    _wait(
        "the first worker to page Ann",
        WORKER_START_TIMEOUT_S,
        lambda: len(_pages(incident_id)) == 1,
        lambda: _alive(first, workers),
    )
    # The worker now holds the delayed step 1 in memory; kill it without a chance to hand back.
    workers.kill(first, signal.SIGKILL)
    second = workers.start()
    _wait(
        "the next level (Ben) after the restart",
        WORKER_START_TIMEOUT_S,
        lambda: len(_pages(incident_id)) == 2,
        lambda: (_alive(second, workers), _sweep()),
    )
    incidents.acknowledge(actor_of(crew.ben), incident_id)
    _check_books(crew, incident_id, opened_at)


def test_flushed_redis_is_rearmed_by_the_sweeper(
    broker: RedisBroker, workers: Workers, env: dict[str, str], redis_url: str
) -> None:
    crew, created = _setup()
    # No worker yet: step 0 waits in Redis, and then Redis loses everything.
    incident_id = send_generic(created, {"title": "down", "dedup_key": "k"}).alerts[0].incident_id
    assert incident_id is not None
    opened_at = _opened_at(incident_id)
    parts = urlsplit(redis_url)
    client = redis.Redis(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 6379,
        db=int(env["ONCALL_REDIS__BROKER_DB"]),
    )
    try:
        assert client.dbsize() > 0
        client.flushdb()
    finally:
        client.close()
    worker = workers.start()
    _wait(
        "the sweeper to re-arm step 0 and the worker to page Ann",
        WORKER_START_TIMEOUT_S,
        lambda: len(_pages(incident_id)) == 1,
        lambda: (_alive(worker, workers), _sweep()),
    )
    _wait(
        "Ben, the next level",
        30,
        lambda: len(_pages(incident_id)) == 2,
        lambda: (_alive(worker, workers), _sweep()),
    )
    incidents.acknowledge(actor_of(crew.ben), incident_id)
    _check_books(crew, incident_id, opened_at)


def _opened_at(incident_id: int) -> datetime:
    with unit_of_work() as uow:
        incident = uow.session.get(Incident, incident_id)
        assert incident is not None
        return incident.opened_at


def _alive(process: subprocess.Popen[bytes], workers: Workers) -> None:
    if process.poll() is not None:
        pytest.fail(f"a worker exited with {process.returncode}:\n{workers.logs()}")
