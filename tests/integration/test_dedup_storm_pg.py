"""ALERT-01 on PostgreSQL: a storm of identical alerts, sent concurrently, opens exactly one
incident and loses none; a storm of the same delivery is accepted exactly once (INT-03)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func
from sqlmodel import select

from backend.core import db
from backend.core.settings import get_settings
from backend.incidents.models import Incident, IncidentStatus
from backend.ingest import cache
from backend.ingest.models import Alert, DeliveryOutcome, InboundDelivery
from backend.ingest.schemas import IntegrationSecret
from tests.factories.ingest import make_integration, send_generic
from tests.integration.conftest import migrate

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
    assert (incident.status, incident.alert_count, attached) == (IncidentStatus.OPEN, STORM, STORM)


def test_200_copies_of_one_delivery_are_accepted_once(pg_engine: None) -> None:
    created = make_integration()
    outcomes = storm(created, ["same-delivery"] * STORM)
    assert Counter(outcomes) == {"new": 1, "repeated": STORM - 1}
    with db.unit_of_work() as uow:
        logged = Counter(d.outcome for d in uow.session.exec(select(InboundDelivery)).all())
        alert_count = uow.session.exec(select(func.count()).select_from(Alert)).one()
    assert logged == {DeliveryOutcome.ACCEPTED: 1, DeliveryOutcome.DUPLICATE: STORM - 1}
    assert alert_count == 1
