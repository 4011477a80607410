"""The demo in the embedded default: a demo alert reaches the on-call person on every
channel, each as an outbox message."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import time_machine
from dramatiq.brokers.stub import StubBroker
from sqlmodel import col, select

from backend.core.db import unit_of_work
from backend.demo import seed
from backend.escalation import engine
from backend.ingest.models import IntegrationType
from backend.ingest.service import InboundRequest, ingest
from backend.notifications import dispatch
from backend.notifications.dispatch import DeliverOutcome
from backend.notifications.models import OutboxMessage
from tests.factories.ingest import sign
from tests.factories.notifications import drain_paging

# Wednesday 11:00 in Berlin: Bob's "Europe business hours" on the Platform schedule.
T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_a_demo_alert_lands_in_the_outbox_on_every_channel_of_the_on_call_user(
    stub_broker: StubBroker,
) -> None:
    with time_machine.travel(T0, tick=False):
        demo = seed.seed()
        assert seed.seed()["contact_methods"] == demo["contact_methods"]
        generic = next(i for i in demo["integrations"] if i["type"] == "generic")
        body = json.dumps(
            {"title": "Postgres replica lag", "dedup_key": "lag", "severity": "critical"}
        ).encode()
        result = ingest(
            InboundRequest(
                provider=IntegrationType.GENERIC,
                key=generic["url"].split("/")[-2],
                body=body,
                content_type="application/json",
                headers=sign(generic["secret"], body),
            )
        )
        incident_id = result.alerts[0].incident_id
        steps, _ = drain_paging(stub_broker)
        for step in steps:
            engine.run_step(step.incident_id, step.token, step.step)
        _, deliveries = drain_paging(stub_broker)
        now = [d for d in deliveries if d.eta_ms is None]
        assert [dispatch.deliver(d.notification_id) for d in now] == [DeliverOutcome.DONE] * 5
        with unit_of_work() as uow:
            sent = uow.session.exec(
                select(OutboxMessage.channel, OutboxMessage.to).order_by(col(OutboxMessage.id))
            ).all()
    assert [(channel.value, to) for channel, to in sent] == [
        ("email", "bob@demo.oncall.local"),
        ("sms", "+15550100002"),
        ("voice", "+15550100002"),
        ("push", "demo-device-2"),
        ("slack", "U0DEMO0002"),
    ]
    assert incident_id is not None
