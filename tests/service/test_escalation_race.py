"""An acknowledgement racing a running escalation step never lets a page through after it.

Two threads on the same database (SQLite file in WAL mode here; PostgreSQL row locks give the
same order). The step is paused at a chosen point with an event, the acknowledgement runs in
the other thread, then the step is released.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from dramatiq.brokers.stub import StubBroker
from sqlmodel import col, select

from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceCreate
from backend.core.db import unit_of_work
from backend.escalation import engine, targets
from backend.escalation.engine import StepOutcome
from backend.escalation.policy import TargetKind
from backend.incidents import service as incidents
from backend.incidents.models import Incident, IncidentEvent, IncidentEventKind, IncidentStatus
from backend.ingest import integrations
from backend.ingest.models import IntegrationType
from backend.ingest.schemas import IntegrationCreate
from tests.factories.escalation import SentStep, drain_steps, make_policy
from tests.factories.identity import actor_of
from tests.factories.ingest import send_generic
from tests.factories.schedules import Crew, make_crew

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def opened(stub_broker: StubBroker) -> Iterator[tuple[Crew, int, SentStep]]:
    with time_machine.travel(T0, tick=False):
        crew = make_crew()
        policy_id = make_policy(
            crew.team_id, levels=[[(TargetKind.USER, crew.id("ann"))]], actor=actor_of(crew.admin)
        )
        service_id = catalog.create_service(
            actor_of(crew.admin),
            ServiceCreate(name="Db", team_id=crew.team_id, escalation_policy_id=policy_id),
        ).id
        created = integrations.create_integration(
            actor_of(crew.admin),
            IntegrationCreate(name="G", type=IntegrationType.GENERIC, service_id=service_id),
        )
        incident_id = send_generic(created, {"title": "down", "dedup_key": "k"}).alerts[0]
        assert incident_id.incident_id is not None
        (step,) = drain_steps(stub_broker)
        yield crew, incident_id.incident_id, step


def _paused(original: Callable[..., Any], reached: threading.Event, go: threading.Event):  # type: ignore[no-untyped-def]  # wraps any signature
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        reached.set()
        assert go.wait(10), "the test never released the step"
        return original(*args, **kwargs)

    return wrapper


def _timeline(incident_id: int) -> list[IncidentEventKind]:
    with unit_of_work() as uow:
        return list(
            uow.session.exec(
                select(IncidentEvent.kind)
                .where(IncidentEvent.incident_id == incident_id)
                .order_by(col(IncidentEvent.id))
            ).all()
        )


def _race(
    monkeypatch: pytest.MonkeyPatch, where: tuple[Any, str], step: SentStep, ack: Callable[[], Any]
) -> tuple[engine.StepResult, bool]:
    """Run the step in a thread, paused at ``where``; acknowledge meanwhile; release it.

    Returns the step's result and whether the acknowledgement had to wait for the step.
    """
    reached, go = threading.Event(), threading.Event()
    module, name = where
    monkeypatch.setattr(module, name, _paused(getattr(module, name), reached, go))
    results: list[engine.StepResult] = []
    worker = threading.Thread(
        target=lambda: results.append(engine.run_step(step.incident_id, step.token, step.step))
    )
    acker_done = threading.Event()
    with time_machine.travel(T0, tick=False):
        worker.start()
        assert reached.wait(10)
        acker = threading.Thread(target=lambda: (ack(), acker_done.set()))
        acker.start()
        # Give the acknowledgement every chance to get ahead of the paused step.
        waited = not acker_done.wait(0.5)
        go.set()
        worker.join(10)
        acker.join(10)
    assert acker_done.is_set()
    (result,) = results
    return result, waited


def test_ack_while_the_step_holds_its_claim_commits_after_the_step_pages(
    monkeypatch: pytest.MonkeyPatch, opened: tuple[Crew, int, SentStep]
) -> None:
    crew, incident_id, step = opened
    # Paused after the compare-and-set, before the pages are written: the step holds the
    # write lock, so the acknowledgement waits for its commit.
    result, waited = _race(
        monkeypatch,
        (targets, "resolve_level"),
        step,
        lambda: incidents.acknowledge(actor_of(crew.ann), incident_id),
    )
    assert waited is True
    assert (result.outcome, result.paged_user_ids) == (StepOutcome.FIRED, (crew.id("ann"),))
    kinds = _timeline(incident_id)
    # Every page is on the timeline before the acknowledgement; nothing after it.
    assert kinds[-1] is IncidentEventKind.ACKNOWLEDGED
    assert kinds.count(IncidentEventKind.PAGE_REQUESTED) == 1
    assert kinds.index(IncidentEventKind.PAGE_REQUESTED) < kinds.index(
        IncidentEventKind.ACKNOWLEDGED
    )


def test_ack_that_commits_before_the_steps_claim_leaves_the_step_stale(
    monkeypatch: pytest.MonkeyPatch, opened: tuple[Crew, int, SentStep]
) -> None:
    crew, incident_id, step = opened
    # Paused after the step read the incident (still OPEN), before its compare-and-set.
    result, waited = _race(
        monkeypatch,
        (engine, "_claim"),
        step,
        lambda: incidents.acknowledge(actor_of(crew.ann), incident_id),
    )
    assert waited is False
    assert (result.outcome, result.paged_user_ids) == (StepOutcome.STALE, ())
    kinds = _timeline(incident_id)
    assert IncidentEventKind.PAGE_REQUESTED not in kinds
    with unit_of_work() as uow:
        status = uow.session.get(Incident, incident_id)
        assert status is not None
        assert status.status is IncidentStatus.ACKNOWLEDGED
