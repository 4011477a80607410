"""ALERT-01 on PostgreSQL: a storm of identical alerts, sent concurrently, opens exactly one
incident and loses none; a storm of the same delivery is accepted exactly once (INT-03). And
the incident lock of ADR 0011: joiners wait for a resolve in flight, a resolve for joiners."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func
from sqlmodel import select

from backend.core import db
from backend.core.settings import get_settings
from backend.incidents import service as incidents
from backend.incidents.models import INCIDENT_LOCK_NAMESPACE, Incident, IncidentStatus
from backend.incidents.queries import alert_tallies
from backend.ingest import cache
from backend.ingest.models import Alert, DeliveryOutcome, InboundDelivery
from backend.ingest.schemas import IntegrationSecret
from tests.factories.ingest import ADMIN, make_integration, send_generic
from tests.integration.conftest import migrate
from tests.support.databases import admin_connection

pytestmark = pytest.mark.integration
STORM = 200
THREADS = 50


@pytest.fixture
def pg_engine(pg_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Both migration heads until the schedules and ingest branches are chained.
    migrate(pg_database, "heads")
    monkeypatch.setenv("ONCALL_DATABASE__URL", pg_database)
    monkeypatch.setenv("ONCALL_SECRET_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    engine = db.build_engine(pg_database, pool_size=THREADS)
    db.set_engine(engine)
    cache.clear_all()
    yield
    db.set_engine(None)
    cache.clear_all()


def storm(created: IntegrationSecret, keys: list[str]) -> list[str]:
    def one(key: str) -> list[str]:
        result = send_generic(
            created,
            {"title": "Checkout down", "dedup_key": "checkout-down", "severity": "critical"},
            idempotency_key=key,
        )
        return [a.outcome for a in result.alerts]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return [outcome for outcomes in pool.map(one, keys) for outcome in outcomes]


def test_200_identical_alerts_concurrently_make_one_incident(pg_engine: None) -> None:
    created = make_integration()
    outcomes = storm(created, [f"delivery-{i}" for i in range(STORM)])
    assert Counter(outcomes) == {"new": 1, "grouped": STORM - 1}
    with db.unit_of_work() as uow:
        (incident,) = uow.session.exec(select(Incident)).all()
        attached = uow.session.exec(
            select(func.count()).select_from(Alert).where(Alert.incident_id == incident.id)
        ).one()
        tally = alert_tallies(uow.session, {incident.id or 0})[incident.id or 0]
    assert (incident.status, tally[0], attached) == (IncidentStatus.OPEN, STORM, STORM)


def test_200_copies_of_one_delivery_are_accepted_once(pg_engine: None) -> None:
    created = make_integration()
    outcomes = storm(created, ["same-delivery"] * STORM)
    assert Counter(outcomes) == {"new": 1, "repeated": STORM - 1}
    with db.unit_of_work() as uow:
        logged = Counter(d.outcome for d in uow.session.exec(select(InboundDelivery)).all())
        alert_count = uow.session.exec(select(func.count()).select_from(Alert)).one()
    assert logged == {DeliveryOutcome.ACCEPTED: 1, DeliveryOutcome.DUPLICATE: STORM - 1}
    assert alert_count == 1


def _lock_then(pg_database: str, sql: str, incident_id: int) -> psycopg.Connection[Any]:
    """An open transaction elsewhere that holds the incident lock (``sql`` takes it)."""
    conn = admin_connection(pg_database)
    conn.autocommit = False
    conn.execute(sql, (INCIDENT_LOCK_NAMESPACE, incident_id))
    return conn


def _disk(created: IntegrationSecret, key: str) -> list[tuple[str, int | None]]:
    result = send_generic(created, {"title": "Disk full", "dedup_key": "disk"}, idempotency_key=key)
    return [(a.outcome, a.incident_id) for a in result.alerts]


def test_a_joiner_waits_for_a_resolve_in_flight_then_opens_a_fresh_incident(
    pg_engine: None, pg_database: str
) -> None:
    """The one-statement path (migration 0012's function) and the Python constant agree on
    the lock: the joiner blocks while the resolve holds it, then sees the incident resolved."""
    created = make_integration()
    ((outcome, first),) = _disk(created, "one")
    assert outcome == "new"
    assert first is not None
    resolver = _lock_then(pg_database, "SELECT pg_advisory_xact_lock(%s, %s)", first)
    with ThreadPoolExecutor(max_workers=1) as pool:
        joining = pool.submit(_disk, created, "two")
        time.sleep(0.5)
        assert not joining.done()  # waiting for the resolve, not joining a resolving incident
        resolver.execute("UPDATE incident SET status = 'RESOLVED' WHERE id = %s", (first,))
        resolver.commit()
        ((outcome, second),) = joining.result(timeout=10)
    resolver.close()
    assert outcome == "new"
    assert second not in (None, first)
    with db.unit_of_work() as uow:
        tallies = alert_tallies(uow.session, {first, second or 0})
    assert {k: v[0] for k, v in tallies.items()} == {first: 1, second: 1}


def test_a_resolve_waits_for_the_joiners_in_flight(pg_engine: None, pg_database: str) -> None:
    created = make_integration()
    ((_, incident_id),) = _disk(created, "one")
    assert incident_id is not None
    joiner = _lock_then(pg_database, "SELECT pg_advisory_xact_lock_shared(%s, %s)", incident_id)
    with ThreadPoolExecutor(max_workers=1) as pool:
        resolving = pool.submit(incidents.resolve, ADMIN, incident_id)
        time.sleep(0.5)
        assert not resolving.done()
        joiner.commit()
        assert resolving.result(timeout=10).status is IncidentStatus.RESOLVED
    joiner.close()


def test_joiners_do_not_wait_for_each_other(pg_engine: None, pg_database: str) -> None:
    created = make_integration()
    ((_, incident_id),) = _disk(created, "one")
    assert incident_id is not None
    other = _lock_then(pg_database, "SELECT pg_advisory_xact_lock_shared(%s, %s)", incident_id)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(_disk, created, "two").result(timeout=5) == [
                ("grouped", incident_id)
            ]
    finally:
        other.rollback()
        other.close()
