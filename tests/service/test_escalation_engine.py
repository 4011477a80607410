"""The escalation engine end to end through the services, with a controllable clock.

A demo-like alert posted through the ingest service opens an incident; the step messages the
engine sends are taken off the stub broker and run through the actor's service function, as
a worker would, at the times the clock is moved to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from dramatiq.brokers.stub import StubBroker
from sqlmodel import col, select

from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceCreate
from backend.core.db import unit_of_work
from backend.core.errors import ErrorCode, InvalidTransition
from backend.core.settings import get_settings
from backend.escalation import rearm
from backend.escalation.engine import StepOutcome
from backend.escalation.models import PageRequest
from backend.escalation.policy import TargetKind
from backend.incidents import service as incidents
from backend.incidents.models import EscalationState, Incident, IncidentEvent, IncidentEventKind
from backend.ingest import integrations, maintenance
from backend.ingest.models import IntegrationType
from backend.ingest.schemas import (
    IntegrationCreate,
    IntegrationSecret,
    MaintenanceWindowCreate,
)
from tests.factories.escalation import (
    SentStep,
    drain_steps,
    handed_over,
    make_policy,
    run_steps,
)
from tests.factories.identity import actor_of
from tests.factories.ingest import send_generic
from tests.factories.schedules import Crew, make_crew, make_schedule

# Wednesday 11:00 in Berlin: day 2 of the daily ann → ben → cat rotation (handoff 09:00).
T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@dataclass
class World:
    crew: Crew
    schedule_id: int
    policy_id: int
    service_id: int
    integration: IntegrationSecret
    traveller: time_machine.Coordinates

    def alert(self, key: str = "disk-full") -> int:
        result = send_generic(self.integration, {"title": "Disk full on db-1", "dedup_key": key})
        incident_id = result.alerts[0].incident_id
        assert incident_id is not None
        return incident_id

    def at(self, minutes: float) -> None:
        self.traveller.move_to(T0 + timedelta(minutes=minutes))

    def due(self, minutes: float, broker: StubBroker) -> list[SentStep]:
        """The steps a worker gets at ``minutes``, handed to the queue by the sweep before."""
        return handed_over(self.traveller, T0 + timedelta(minutes=minutes), broker)


@pytest.fixture
def world() -> Iterator[World]:
    with time_machine.travel(T0, tick=False) as traveller:
        crew = make_crew()
        schedule_id = make_schedule(crew)
        # Level 1: whoever is on call (5 min); level 2: the team admin (10 min); twice over.
        policy_id = make_policy(
            crew.team_id,
            "Primary",
            levels=[[(TargetKind.SCHEDULE, schedule_id)], [(TargetKind.USER, crew.id("admin"))]],
            timeouts=[5, 10],
            repeat=1,
            actor=actor_of(crew.admin),
        )
        service_id = catalog.create_service(
            actor_of(crew.admin),
            ServiceCreate(name="Postgres", team_id=crew.team_id, escalation_policy_id=policy_id),
        ).id
        created = integrations.create_integration(
            actor_of(crew.admin),
            IntegrationCreate(name="Grafana", type=IntegrationType.GENERIC, service_id=service_id),
        )
        yield World(crew, schedule_id, policy_id, service_id, created, traveller)


def pages(incident_id: int) -> list[tuple[int, int, int, datetime]]:
    """(user, level, repeat, created_at) of every page request, in order."""
    with unit_of_work() as uow:
        rows = uow.session.exec(
            select(PageRequest)
            .where(PageRequest.incident_id == incident_id)
            .order_by(col(PageRequest.id))
        ).all()
        return [(p.user_id, p.level, p.repeat, p.created_at) for p in rows]


def kinds(incident_id: int) -> list[IncidentEventKind]:
    with unit_of_work() as uow:
        rows = uow.session.exec(
            select(IncidentEvent.kind)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(col(IncidentEvent.id))
        ).all()
        return list(rows)


def incident_row(incident_id: int) -> Incident:
    with unit_of_work() as uow:
        row = uow.session.get(Incident, incident_id)
        assert row is not None
        return row


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_alert_pages_on_call_at_once_then_next_level_then_repeats_then_exhausts(
    world: World, stub_broker: StubBroker
) -> None:
    crew = world.crew
    incident_id = world.alert()
    opened = incident_row(incident_id)
    assert (opened.escalation_state, opened.escalation_step, opened.next_escalation_at) == (
        EscalationState.ACTIVE,
        0,
        T0,
    )
    assert opened.escalation_snapshot == {
        "policy_id": world.policy_id,
        "policy_name": "Primary",
        "repeat": 1,
        "levels": [
            {"timeout_minutes": 5, "targets": [{"type": "schedule", "id": world.schedule_id}]},
            {"timeout_minutes": 10, "targets": [{"type": "user", "id": crew.id("admin")}]},
        ],
    }
    # Step 0 is sent at once (no delay) after commit.
    (first,) = drain_steps(stub_broker)
    assert (first.incident_id, first.step, first.eta_ms) == (incident_id, 0, None)
    assert first.token == opened.escalation_token

    assert run_steps([first])[0].outcome is StepOutcome.FIRED
    assert pages(incident_id) == [(crew.id("cat"), 0, 0, at(0))]
    # Step 1 is 5 minutes ahead, beyond the hand-over horizon (30 s): not queued yet.
    assert drain_steps(stub_broker) == []
    world.at(4.4)  # 36 s before it is due
    assert rearm.hand_over() == 0
    world.at(4.6)  # 24 s before: handed over, with the delay that is left
    assert rearm.hand_over() == 1
    assert rearm.hand_over() == 0  # once
    (second,) = drain_steps(stub_broker)
    assert (second.step, second.eta_ms) == (1, int(at(5).timestamp() * 1000))
    # Too early: nothing happens and the message is not consumed for good (it stays due).
    world.at(2)
    assert run_steps([second])[0].outcome is StepOutcome.NOT_DUE
    world.at(5)
    run_steps([second])
    run_steps(world.due(15, stub_broker))  # level 1, pass 2
    run_steps(world.due(20, stub_broker))  # level 2, pass 2
    (last,) = world.due(30, stub_broker)
    assert (last.step, run_steps([last])[0].outcome) == (4, StepOutcome.EXHAUSTED)
    assert drain_steps(stub_broker) == []
    assert pages(incident_id) == [
        (crew.id("cat"), 0, 0, at(0)),
        (crew.id("admin"), 1, 0, at(5)),
        (crew.id("cat"), 0, 1, at(15)),
        (crew.id("admin"), 1, 1, at(20)),
    ]
    final = incident_row(incident_id)
    assert (final.escalation_state, final.escalation_token, final.next_escalation_at) == (
        EscalationState.EXHAUSTED,
        None,
        None,
    )
    K = IncidentEventKind
    assert kinds(incident_id) == [
        K.OPENED, K.ALERT, K.ESCALATION_STARTED,
        K.ESCALATED, K.PAGE_REQUESTED, K.ESCALATED, K.PAGE_REQUESTED,
        K.ESCALATED, K.PAGE_REQUESTED, K.ESCALATED, K.PAGE_REQUESTED,
        K.ESCALATION_EXHAUSTED,
    ]  # fmt: skip


def test_acknowledging_stops_escalation_and_stale_or_duplicate_steps_do_nothing(
    world: World, stub_broker: StubBroker
) -> None:
    crew = world.crew
    incident_id = world.alert()
    first = drain_steps(stub_broker)
    run_steps(first)
    world.at(4.75)
    assert rearm.hand_over() == 1
    pending = drain_steps(stub_broker)
    world.at(0)
    # A duplicate of the step that already ran: the step moved on.
    assert [r.outcome for r in run_steps(first)] == [StepOutcome.STALE]
    world.at(3)
    incidents.acknowledge(actor_of(crew.cat), incident_id)
    row = incident_row(incident_id)
    assert (row.escalation_token, row.next_escalation_at, row.escalation_state) == (
        None,
        None,
        EscalationState.STOPPED,
    )
    assert row.assignee_id == crew.id("cat")
    world.at(60)
    assert [r.outcome for r in run_steps(pending)] == [StepOutcome.STALE]
    assert rearm.sweep() == 0
    assert pages(incident_id) == [(crew.id("cat"), 0, 0, at(0))]


def test_escalate_now_fires_the_next_level_at_once_with_a_new_token(
    world: World, stub_broker: StubBroker
) -> None:
    crew = world.crew
    incident_id = world.alert()
    run_steps(drain_steps(stub_broker))
    world.at(4.75)
    assert rearm.hand_over() == 1
    (waiting,) = drain_steps(stub_broker)
    world.at(1)
    incidents.escalate_now(actor_of(crew.ben), incident_id)
    (now_step,) = drain_steps(stub_broker)
    assert (now_step.step, now_step.eta_ms) == (1, None)
    assert now_step.token != waiting.token
    assert run_steps([now_step])[0].outcome is StepOutcome.FIRED
    # The message sent before "escalate now" carries the old token: stale.
    world.at(5)
    assert run_steps([waiting])[0].outcome is StepOutcome.STALE
    assert pages(incident_id) == [(crew.id("cat"), 0, 0, at(0)), (crew.id("admin"), 1, 0, at(1))]
    incidents.acknowledge(actor_of(crew.ben), incident_id)
    with pytest.raises(InvalidTransition) as caught:
        incidents.escalate_now(actor_of(crew.ben), incident_id)
    assert caught.value.code is ErrorCode.INVALID_TRANSITION


def test_sweeper_rearms_a_lost_step_after_the_grace_and_the_page_happens_once(
    world: World, stub_broker: StubBroker
) -> None:
    crew = world.crew
    incident_id = world.alert()
    run_steps(drain_steps(stub_broker))
    world.at(4.75)
    assert rearm.hand_over() == 1
    assert len(drain_steps(stub_broker)) == 1  # Redis lost the delayed step 1
    world.at(5)
    assert rearm.sweep() == 0  # due, but within the grace: its message may still come
    world.at(5.25)
    assert rearm.sweep() == 1
    resent = drain_steps(stub_broker)
    assert [(s.step, s.eta_ms) for s in resent] == [(1, None)]
    # Still queued behind a backlog, not lost: the next sweeps leave it alone for as long as
    # it was late (15 s), then re-send it in case that message was lost too.
    assert rearm.sweep() == 0
    world.at(5.49)
    assert rearm.sweep() == 0
    assert drain_steps(stub_broker) == []
    world.at(5.5)
    assert rearm.sweep() == 1
    resent += drain_steps(stub_broker)
    # The worker gets to both: the second run does nothing.
    assert [r.outcome for r in run_steps(resent)] == [StepOutcome.FIRED, StepOutcome.STALE]
    assert pages(incident_id) == [
        (crew.id("cat"), 0, 0, at(0)),
        (crew.id("admin"), 1, 0, at(5.5)),
    ]


def test_a_service_without_its_own_policy_escalates_with_the_team_default(
    world: World, stub_broker: StubBroker
) -> None:
    other = catalog.create_service(
        actor_of(world.crew.root), ServiceCreate(name="Unowned", team_id=world.crew.team_id)
    ).id
    # The team's only policy is its default, so a service without its own policy uses it.
    created = integrations.create_integration(
        actor_of(world.crew.admin),
        IntegrationCreate(name="Other", type=IntegrationType.GENERIC, service_id=other),
    )
    result = send_generic(created, {"title": "Other", "dedup_key": "x"})
    incident_id = result.alerts[0].incident_id
    assert incident_id is not None
    snapshot = incident_row(incident_id).escalation_snapshot
    assert snapshot is not None
    assert snapshot["policy_id"] == world.policy_id
    assert [s.step for s in drain_steps(stub_broker)] == [0]


def test_an_integration_resolving_the_incident_clears_the_token(
    world: World, stub_broker: StubBroker
) -> None:
    incident_id = world.alert("k1")
    steps = drain_steps(stub_broker)
    send_generic(world.integration, {"title": "ok", "dedup_key": "k1", "status": "resolved"})
    row = incident_row(incident_id)
    assert (row.status.value, row.escalation_token, row.escalation_state) == (
        "RESOLVED",
        None,
        EscalationState.STOPPED,
    )
    assert [r.outcome for r in run_steps(steps)] == [StepOutcome.STALE]
    assert pages(incident_id) == []
    assert kinds(incident_id)[-1] is IncidentEventKind.RESOLVED


def test_no_escalation_in_a_maintenance_window_or_without_any_policy(
    world: World, stub_broker: StubBroker
) -> None:
    maintenance.create_window(
        actor_of(world.crew.admin),
        MaintenanceWindowCreate(service_id=world.service_id, starts_at=at(-1), ends_at=at(60)),
    )
    in_window = world.alert("m1")
    loner = make_crew("Loners")  # a team with no policy at all, and no triage policy either
    service_id = catalog.create_service(
        actor_of(loner.admin), ServiceCreate(name="Lonely", team_id=loner.team_id)
    ).id
    created = integrations.create_integration(
        actor_of(loner.admin),
        IntegrationCreate(name="Lone", type=IntegrationType.GENERIC, service_id=service_id),
    )
    unrouted = send_generic(created, {"title": "x", "dedup_key": "y"}).alerts[0].incident_id
    assert unrouted is not None
    assert drain_steps(stub_broker) == []
    for incident_id in (in_window, unrouted):
        row = incident_row(incident_id)
        assert (row.escalation_state, row.escalation_token) == (EscalationState.NONE, None)
        assert kinds(incident_id)[-1] is IncidentEventKind.NOT_ESCALATED
    with pytest.raises(InvalidTransition):
        incidents.escalate_now(actor_of(loner.admin), unrouted)


def test_a_next_step_within_the_horizon_is_queued_when_its_level_fires_not_handed_over(
    world: World, stub_broker: StubBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONCALL_ESCALATION__HANDOFF_SECONDS", "600")  # 10 min: level 1's 5 fit
    get_settings.cache_clear()
    incident_id = world.alert()
    run_steps(drain_steps(stub_broker))
    (queued,) = drain_steps(stub_broker)
    assert (queued.step, queued.eta_ms) == (1, int(at(5).timestamp() * 1000))
    world.at(4.9)
    assert rearm.hand_over() == 0  # already on its way
    world.at(5)
    assert run_steps([queued])[0].outcome is StepOutcome.FIRED
    assert [p[1] for p in pages(incident_id)] == [0, 1]


def test_a_step_no_hand_over_saw_in_time_is_re_sent_by_the_sweep_after_the_grace(
    world: World, stub_broker: StubBroker
) -> None:
    crew = world.crew
    incident_id = world.alert()
    run_steps(drain_steps(stub_broker))
    world.at(5)  # no sweep ran in the 30 s before step 1 was due (no scheduler)
    assert rearm.hand_over() == 0  # due now: no longer "soon"
    assert rearm.sweep() == 0  # within the grace
    world.at(5.25)
    assert rearm.sweep() == 1
    (resent,) = drain_steps(stub_broker)
    assert (resent.step, resent.eta_ms) == (1, None)
    run_steps([resent])
    assert pages(incident_id) == [(crew.id("cat"), 0, 0, at(0)), (crew.id("admin"), 1, 0, at(5.25))]


def test_no_hand_over_for_an_acknowledged_incident(world: World, stub_broker: StubBroker) -> None:
    incident_id = world.alert()
    run_steps(drain_steps(stub_broker))
    world.at(1)
    incidents.acknowledge(actor_of(world.crew.cat), incident_id)
    world.at(4.75)
    assert rearm.hand_over() == 0
    assert drain_steps(stub_broker) == []


def test_hand_over_takes_every_step_in_the_horizon_in_batches(
    world: World, stub_broker: StubBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONCALL_ESCALATION__SWEEP_BATCH", "2")
    get_settings.cache_clear()
    opened = [world.alert(f"disk-full-{i}") for i in range(5)]
    run_steps(drain_steps(stub_broker))
    world.at(4.75)
    assert rearm.hand_over() == 5
    handed = drain_steps(stub_broker)
    assert sorted(s.incident_id for s in handed) == sorted(opened)
    assert {s.step for s in handed} == {1}
    assert rearm.hand_over() == 0
