"""The demo: an alert posted to the demo webhook pages the on-call person of the schedule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import time_machine
from dramatiq.brokers.stub import StubBroker
from sqlmodel import col, select

from backend.core.db import unit_of_work
from backend.demo import seed
from backend.escalation.models import PageRequest
from backend.ingest.models import IntegrationType
from backend.ingest.service import InboundRequest, ingest
from tests.factories.escalation import drain_steps, handed_over, run_steps
from tests.factories.ingest import sign

# Wednesday 11:00 in Berlin: Bob's "Europe business hours" on the Platform schedule.
T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_demo_alert_pages_bob_at_once_then_alice_after_30_minutes(stub_broker: StubBroker) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        demo = seed.seed()
        assert seed.seed()["escalation_policies"] == demo["escalation_policies"]
        generic = next(i for i in demo["integrations"] if i["type"] == "generic")
        body = json.dumps({"title": "Postgres replica lag", "dedup_key": "lag"}).encode()
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
        run_steps(drain_steps(stub_broker))
        run_steps(handed_over(traveller, T0 + timedelta(minutes=30), stub_broker))
        with unit_of_work() as uow:
            paged = uow.session.exec(
                select(PageRequest.user_id, PageRequest.level)
                .where(PageRequest.incident_id == incident_id)
                .order_by(col(PageRequest.id))
            ).all()
    users = demo["users"]
    assert paged == [
        (users["bob@demo.oncall.local"], 0),
        (users["alice@demo.oncall.local"], 1),
    ]
