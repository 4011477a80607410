"""Fixtures of the reliability suite: the shared service fixtures, settings for fast escalation
and delivery timing, a Redis broker in the test process (it sends the sweeps), real worker
processes and one paging set-up (a team, a two-level policy, verified e-mail methods).

Fast timing, TESTS ONLY: one policy minute lasts one second, sweepers re-send after one second
past due, a crashed worker's delivery claim expires one second after the provider timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dramatiq
import pytest
from cryptography.fernet import Fernet
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceCreate
from backend.core import db
from backend.core.settings import get_settings
from backend.escalation.policy import TargetKind
from backend.incidents import service as incidents
from backend.ingest import cache, integrations
from backend.ingest.models import IntegrationType
from backend.ingest.schemas import IntegrationCreate, IntegrationSecret
from backend.notifications.models import ChannelKind
from jobs.broker import build_broker
from tests.factories.escalation import make_policy
from tests.factories.identity import actor_of
from tests.factories.notifications import verified_method
from tests.factories.schedules import Crew, make_crew
from tests.support.api_server import ApiServer
from tests.support.databases import (
    closed_port,
    migrated_pg_database,
    pg_database,
    redis_own_db,
)
from tests.support.pg_proxy import pg_proxy
from tests.support.redis_server import redis_server
from tests.support.smtp_hang import hanging_smtp
from tests.support.workers import Workers

__all__ = [
    "closed_port",
    "hanging_smtp",
    "migrated_pg_database",
    "pg_database",
    "pg_proxy",
    "redis_own_db",
    "redis_server",
]

TIMEOUT_MINUTES = 2  # per level: two seconds with the scaled minute

FAST_TIMING = {
    "ONCALL_OBSERVABILITY__LOG_JSON": "false",
    "ONCALL_ESCALATION__MINUTE_SECONDS": "1",
    "ONCALL_ESCALATION__SWEEP_GRACE_SECONDS": "1",
    "ONCALL_NOTIFICATIONS__SWEEP_GRACE_SECONDS": "1",
    "ONCALL_NOTIFICATIONS__LEASE_MARGIN_SECONDS": "1",
    "ONCALL_NOTIFICATIONS__BACKOFF_BASE_SECONDS": "1",
}


@dataclass
class Environment:
    values: dict[str, str]
    broker: RedisBroker


@pytest.fixture
def configure(
    monkeypatch: pytest.MonkeyPatch, stub_broker: StubBroker
) -> Iterator[Callable[..., Environment]]:
    """``configure(database_url, redis_url, broker_db, **overrides)``: the settings every process
    of the test gets (this one reads the database at ``database_url``; servers and workers may
    be given another URL, e.g. through the proxy), and a Redis broker in this process."""
    made: list[Environment] = []

    def apply(
        database_url: str, redis_url: str, broker_db: int = 1, **overrides: str
    ) -> Environment:
        values = {
            **FAST_TIMING,
            "ONCALL_DATABASE__URL": database_url,
            "ONCALL_REDIS__URL": redis_url,
            "ONCALL_REDIS__BROKER_DB": str(broker_db),
            "ONCALL_SECRET_KEY": Fernet.generate_key().decode(),
            **overrides,
        }
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        db.set_engine(db.build_engine(database_url))
        cache.clear_all()
        broker = build_broker(get_settings())
        assert isinstance(broker, RedisBroker)
        dramatiq.set_broker(broker)
        made.append(Environment(values, broker))
        return made[-1]

    yield apply
    dramatiq.set_broker(stub_broker)
    for environment in made:
        environment.broker.close()
    db.set_engine(None)
    cache.clear_all()


def _outlive(request: pytest.FixtureRequest) -> None:
    """Set up the test's own Redis first, so it is torn down after the processes that write to
    it (teardown runs in reverse order of setup): a worker still beating after the flush would
    leave keys in a claimable database and make it unclaimable for later runs."""
    for name in ("redis_own_db", "redis_server"):
        if name in request.fixturenames:
            request.getfixturevalue(name)


@pytest.fixture
def workers_for(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Workers]]:
    """``workers_for(env, threads=2)``: a worker pool handle; every process is killed at the end."""
    _outlive(request)
    made: list[Workers] = []

    def build(env: dict[str, str], threads: int = 2) -> Workers:
        log_dir = tmp_path / f"workers{len(made)}"
        log_dir.mkdir()
        made.append(Workers(env, log_dir, threads=threads))
        return made[-1]

    yield build
    for handle in made:
        handle.stop_all()


@pytest.fixture
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., ApiServer]]:
    """``api(env, workers=1)``: the API served by granian with ``env``; stopped at the end."""
    _outlive(request)
    servers: list[ApiServer] = []

    def start(env: dict[str, str], workers: int = 1) -> ApiServer:
        servers.append(ApiServer(env, tmp_path, workers=workers))
        servers[-1].start()
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@dataclass(frozen=True)
class Paging:
    crew: Crew
    integration: IntegrationSecret

    def acknowledge(self, incident_id: int) -> None:
        incidents.acknowledge(actor_of(self.crew.ann), incident_id)


def make_paging(levels: int = 2) -> Paging:
    """Ann (level 0) then Ben (level 1, two scaled minutes later; ``levels=1``: Ann only), each
    with one verified e-mail address (the default rules: one e-mail per page); a signed generic
    integration."""
    crew = make_crew()
    policy_id = make_policy(
        crew.team_id,
        levels=[[(TargetKind.USER, crew.id(who))] for who in ("ann", "ben")[:levels]],
        timeouts=[TIMEOUT_MINUTES] * levels,
        actor=actor_of(crew.admin),
    )
    for who in ("ann", "ben"):
        verified_method(crew.id(who), ChannelKind.EMAIL, f"{who}@example.org")
    service_id = catalog.create_service(
        actor_of(crew.admin),
        ServiceCreate(name="Db", team_id=crew.team_id, escalation_policy_id=policy_id),
    ).id
    created = integrations.create_integration(
        actor_of(crew.admin),
        IntegrationCreate(name="G", type=IntegrationType.GENERIC, service_id=service_id),
    )
    return Paging(crew, created)
