"""Embedded mode: the stub broker with worker threads runs escalation like Redis workers do
(step 0 at once, the next level after its delay), with policy minutes scaled to 0.2 s."""

from __future__ import annotations

import time
from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from sqlmodel import col, select

import jobs.actors
from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceCreate
from backend.core.db import unit_of_work
from backend.core.settings import get_settings
from backend.escalation.models import PageRequest
from backend.escalation.policy import TargetKind
from backend.ingest import integrations
from backend.ingest.models import IntegrationType
from backend.ingest.schemas import IntegrationCreate
from tests.factories.escalation import make_policy
from tests.factories.identity import actor_of
from tests.factories.ingest import send_generic
from tests.factories.schedules import make_crew


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch, stub_broker: StubBroker) -> Iterator[None]:
    monkeypatch.setenv("ONCALL_ESCALATION__MINUTE_SECONDS", "0.2")
    get_settings.cache_clear()
    for actor in vars(jobs.actors).values():
        if isinstance(actor, dramatiq.Actor):
            stub_broker.declare_actor(actor)
    worker = dramatiq.Worker(stub_broker, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        yield
    finally:
        worker.stop()


def test_worker_threads_page_level_one_at_once_and_level_two_after_the_timeout(
    embedded: None,
) -> None:
    crew = make_crew()
    policy_id = make_policy(
        crew.team_id,
        levels=[[(TargetKind.USER, crew.id("ann"))], [(TargetKind.USER, crew.id("ben"))]],
        timeouts=[1, 1],
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
    incident_id = send_generic(created, {"title": "t", "dedup_key": "k"}).alerts[0].incident_id

    def paged() -> list[int]:
        with unit_of_work() as uow:
            return list(
                uow.session.exec(
                    select(PageRequest.user_id)
                    .where(PageRequest.incident_id == incident_id)
                    .order_by(col(PageRequest.id))
                ).all()
            )

    deadline = time.monotonic() + 15
    while len(paged()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert paged() == [crew.id("ann"), crew.id("ben")]
