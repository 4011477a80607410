"""NOTIF-03 on PostgreSQL: the last two primary notifications of a page failing at the same
moment plan exactly one SMS fallback (the page request's row lock orders the two decisions, so
the second sees the first's committed failure; the unique key stops a double insert)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import update
from sqlmodel import col, select

from backend.core import db
from backend.core.db import unit_of_work
from backend.core.settings import get_settings
from backend.escalation import engine
from backend.incidents.models import IncidentEvent, IncidentEventKind
from backend.notifications import dispatch
from backend.notifications import service as notifications
from backend.notifications.dispatch import DeliverOutcome
from backend.notifications.models import ChannelKind, Notification, NotificationStatus, Urgency
from backend.notifications.providers import ProviderResult
from backend.notifications.schemas import RuleIn
from tests.factories.identity import actor_of
from tests.factories.ingest import send_generic
from tests.factories.notifications import drain_paging, verified_method
from tests.integration.conftest import migrate
from tests.service.test_notifications import World, world

__all__ = ["world"]
pytestmark = pytest.mark.integration
ROUNDS = 15
_N = Notification.__table__  # type: ignore[attr-defined]


@pytest.fixture
def pg_engine(pg_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    migrate(pg_database, "heads")
    monkeypatch.setenv("ONCALL_DATABASE__URL", pg_database)
    monkeypatch.setenv("ONCALL_SECRET_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    engine = db.build_engine(pg_database, pool_size=4)
    db.set_engine(engine)
    yield
    db.set_engine(None)


def page(world: World, key: str) -> tuple[int, list[int]]:
    """A new incident (its own dedup key) and its first step: (incident, notification ids)."""
    result = send_generic(
        world.integration, {"title": "Disk full", "dedup_key": key, "severity": "critical"}
    )
    incident_id = result.alerts[0].incident_id
    assert incident_id is not None
    steps, _ = drain_paging(world.broker)
    for step in steps:
        engine.run_step(step.incident_id, step.token, step.step)
    _, deliveries = drain_paging(world.broker)
    return incident_id, [d.notification_id for d in deliveries]


def fail_together(ids: list[int]) -> list[DeliverOutcome]:
    """Record the final failure of each claimed notification, all threads at once."""
    with unit_of_work() as uow:
        uow.session.execute(
            update(_N)
            .where(_N.c.id.in_(ids))
            .values(status=NotificationStatus.SENDING.value, attempts=1)
        )
    start = threading.Barrier(len(ids))
    outcomes: dict[int, DeliverOutcome] = {}

    def one(notification_id: int) -> None:
        with unit_of_work() as uow:
            facts = dispatch.DeliveryFacts.read(uow.session, notification_id)
        assert facts is not None
        start.wait()
        outcomes[notification_id] = dispatch._record(  # the worker's recording step
            facts,
            1,
            "outbox",
            ProviderResult.failure("provider down", retryable=False),
            5,
        )

    threads = [threading.Thread(target=one, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [outcomes[i] for i in ids]


def test_concurrent_last_failures_plan_one_sms(pg_engine: None, world: World) -> None:
    ann = world.crew.id("ann")
    notifications.set_rules(
        actor_of(world.crew.ann),
        ann,
        Urgency.HIGH,
        [
            RuleIn(urgency=Urgency.HIGH, channel=ChannelKind.EMAIL),
            RuleIn(urgency=Urgency.HIGH, channel=ChannelKind.SLACK),
        ],
    )
    verified_method(ann, ChannelKind.EMAIL, "ann@example.org")
    verified_method(ann, ChannelKind.SLACK, "U0ANN")
    verified_method(ann, ChannelKind.SMS, "+15550001")
    for round_ in range(ROUNDS):
        incident_id, ids = page(world, f"disk-{round_}")
        assert fail_together(ids) == [DeliverOutcome.FAILED] * 2, round_
        with unit_of_work() as uow:
            rows = uow.session.exec(
                select(Notification)
                .where(Notification.incident_id == incident_id)
                .order_by(col(Notification.id))
            ).all()
            lines = uow.session.exec(
                select(IncidentEvent.summary).where(
                    IncidentEvent.incident_id == incident_id,
                    IncidentEvent.kind == IncidentEventKind.NOTIFICATION_FAILED,
                    col(IncidentEvent.summary).contains("instead"),
                )
            ).all()
        assert [(r.channel.value, r.step) for r in rows] == [
            ("email", 0),
            ("slack", 1),
            ("sms", -2),
        ], round_
        assert lines == ["E-mail and Slack to Ann failed; texting Ann by SMS instead."], round_
