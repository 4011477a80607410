"""The durable escalation engine (ROUTE-02). The only writer of an incident's escalation state.

Due work lives in the incident row (token, step, ``next_escalation_at``); a Dramatiq message
``ESCALATE_STEP(incident_id, token, step)`` is only the fast path. A step acts only after a
compare-and-set on (token, step, status OPEN), in the same transaction as the page requests
it creates, so:

* a stale message (acknowledged, resolved, re-armed by "escalate now") does nothing;
* a duplicate message (redelivery, sweeper re-send) does nothing: the step already moved on;
* an acknowledgement racing a step either commits first (the step's CAS fails) or waits for
  the step's row lock and commits after its pages (PostgreSQL row lock; SQLite's one writer).

Enqueueing happens after commit, and a failed enqueue is only logged: the sweeper re-sends
every step that is past due by more than a small grace, which is also what makes a crashed
worker or a flushed Redis harmless (ADR 0007).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy import bindparam, case, select, update
from sqlmodel import Session

from backend.catalog.models import Service
from backend.core import clock
from backend.core.db import UnitOfWork, insert_ignoring_conflict, unit_of_work
from backend.core.events import DomainEvent, get_bus
from backend.core.jobs import JobName, enqueue
from backend.core.settings import get_settings
from backend.escalation import targets
from backend.escalation.models import PageRequest
from backend.escalation.policy import Chain, StepPlan, from_snapshot, plan_step, to_snapshot
from backend.incidents import timeline
from backend.incidents.models import (
    EscalationState,
    Incident,
    IncidentEventKind,
    IncidentStatus,
    Severity,
)
from backend.notifications import dispatch as notifications

log = structlog.get_logger(__name__)
_INCIDENT = Incident.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
_PAGE = PageRequest.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime

# The step's statements are built once (ADR 0012): every incident runs a step per level.
_STEP_STATE = select(
    _INCIDENT.c.status,
    _INCIDENT.c.escalation_token,
    _INCIDENT.c.escalation_step,
    _INCIDENT.c.next_escalation_at,
    _INCIDENT.c.escalation_snapshot,
    _INCIDENT.c.service_id,
    _INCIDENT.c.severity,
).where(_INCIDENT.c.id == bindparam("incident_id"))
_STEP_MATCHES = (
    _INCIDENT.c.id == bindparam("b_incident_id"),
    _INCIDENT.c.escalation_token == bindparam("b_token"),
    _INCIDENT.c.escalation_step == bindparam("b_step"),
    _INCIDENT.c.status == IncidentStatus.OPEN.value,
)
_ADVANCE = (
    update(_INCIDENT)
    .where(*_STEP_MATCHES)
    .values(
        escalation_step=bindparam("b_next_step"),
        next_escalation_at=bindparam("b_next_at"),
        # The next step's message is on its way (queued after commit): no sweep re-sends it
        # before it is due + grace. None: not queued, the sweep hands it over (rearm.hand_over).
        escalation_resend_after=bindparam("b_resend_after"),
    )
)
_EXHAUST = (
    update(_INCIDENT)
    .where(*_STEP_MATCHES)
    .values(
        escalation_token=None,
        next_escalation_at=None,
        escalation_state=EscalationState.EXHAUSTED,
    )
)
# A message may run a little before its due time (clock skew between processes).
EARLY_TOLERANCE = timedelta(seconds=2)
ENGINE_LABEL = "escalation"


class StepOutcome(StrEnum):
    FIRED = "fired"
    EXHAUSTED = "exhausted"
    STALE = "stale"  # token, step or status no longer match: nothing done
    NOT_DUE = "not_due"


@dataclass(frozen=True)
class StepResult:
    outcome: StepOutcome
    paged_user_ids: tuple[int, ...] = ()
    # With ``hold_first``: the notification due at once that was not enqueued, for the caller
    # to deliver after this returns (dispatch.deliver_held).
    held: tuple[int, ...] = ()


def minutes(count: int) -> timedelta:
    """``count`` policy minutes (scaled only in tests, see EscalationSettings.minute_seconds)."""
    return timedelta(seconds=count * get_settings().escalation.minute_seconds)


def new_token() -> str:
    return secrets.token_hex(16)


def send(incident_id: int, token: str, step: int, delay: timedelta | None = None) -> None:
    """Enqueue the step (after commit); a broker failure is left to the sweeper."""
    try_send(incident_id, token, step, delay)


def try_send(incident_id: int, token: str, step: int, delay: timedelta | None = None) -> bool:
    """``send``, telling whether the broker took the message (the sweeper stamps only those)."""
    delay_ms = None if delay is None else max(0, int(delay.total_seconds() * 1000))
    try:
        enqueue(
            JobName.ESCALATE_STEP,
            delay_ms=delay_ms or None,
            incident_id=incident_id,
            token=token,
            step=step,
        )
    except Exception:  # any broker failure: the row is committed, the sweeper re-sends
        log.warning("escalation_enqueue_failed", incident_id=incident_id, step=step, exc_info=True)
        return False
    return True


def _publish(uow: UnitOfWork, name: str, incident_id: int, service_id: int, **payload: Any) -> None:
    event = DomainEvent(
        name=name,
        payload={"incident_id": incident_id, "service_id": service_id, **payload},
        topics=("incidents", f"incident:{incident_id}", f"service:{service_id}"),
        actor_label=ENGINE_LABEL,
    )
    uow.after_commit(lambda: get_bus().publish(event))


# --- starting ------------------------------------------------------------------------------


def start(uow: UnitOfWork, incident_id: int, *, actor_label: str = ENGINE_LABEL) -> EscalationState:
    """Snapshot the policy onto an OPEN incident and arm step 0, in the caller's transaction.

    The step message is sent after commit. An incident opened in a maintenance window, or one
    no policy applies to, is recorded on the timeline and not escalated.
    """
    session = uow.session
    incident = session.get(Incident, incident_id)
    if incident is None or incident.status is not IncidentStatus.OPEN:
        return EscalationState.NONE
    if incident.in_maintenance:
        timeline.record(
            session,
            incident_id,
            IncidentEventKind.NOT_ESCALATED,
            "Opened during a maintenance window: nobody is paged.",
            actor_label=actor_label,
        )
        return EscalationState.NONE
    service = session.get(Service, incident.service_id)
    assert service is not None
    policy, why = targets.policy_for(session, service)
    if policy is None or policy.id is None:
        timeline.record(
            session,
            incident_id,
            IncidentEventKind.NOT_ESCALATED,
            "No escalation policy applies (service, team default or triage): nobody is paged.",
            actor_label=actor_label,
        )
        return EscalationState.NONE
    chain = targets.chain_of(session, policy)
    snapshot = to_snapshot(chain, policy_id=policy.id, policy_name=policy.name)
    token, now = new_token(), clock.now()
    session.execute(
        update(_INCIDENT)
        .where(_INCIDENT.c.id == incident_id, _INCIDENT.c.status == IncidentStatus.OPEN.value)
        .values(
            escalation_policy_id=policy.id,
            escalation_snapshot=snapshot,
            escalation_state=EscalationState.ACTIVE,
            escalation_token=token,
            escalation_step=0,
            next_escalation_at=now,
            escalation_resend_after=None,
        )
    )
    session.expire(incident)
    timeline.record(
        session,
        incident_id,
        IncidentEventKind.ESCALATION_STARTED,
        f"Escalating with '{policy.name}' ({why}).",
        actor_label=actor_label,
        data={"policy_id": policy.id, "levels": len(chain.levels), "repeat": chain.repeat},
    )
    uow.after_commit(lambda: send(incident_id, token, 0))
    return EscalationState.ACTIVE


def stop_values() -> dict[str, Any]:
    """Column values that end an escalation (for the lifecycle's compare-and-set updates)."""
    return {
        "escalation_token": None,
        "next_escalation_at": None,
        "escalation_state": case(
            (_INCIDENT.c.escalation_state == EscalationState.ACTIVE.value, "stopped"),
            else_=_INCIDENT.c.escalation_state,
        ),
    }


def stop(session: Session, incident_id: int) -> None:
    """Clear the token of an incident that is no longer OPEN (ingestion acks and resolves)."""
    session.execute(
        update(_INCIDENT)
        .where(
            _INCIDENT.c.id == incident_id,
            _INCIDENT.c.status != IncidentStatus.OPEN.value,
            _INCIDENT.c.escalation_token.is_not(None),
        )
        .values(**stop_values())
    )


# --- one step --------------------------------------------------------------------------------


def run_step(incident_id: int, token: str, step: int, *, hold_first: bool = False) -> StepResult:
    """Run step ``step`` of the incident's escalation if (token, step, OPEN) still match.

    Idempotent: any mismatch returns STALE and changes nothing. ``hold_first``: the first
    notification due at once is returned in ``held`` instead of being enqueued (the step's
    job delivers it itself, ADR 0016); every other one is enqueued as usual.
    """
    now = clock.now()
    with unit_of_work() as uow:
        session = uow.session
        row = session.execute(_STEP_STATE, {"incident_id": incident_id}).first()
        if row is None or row[0] != IncidentStatus.OPEN.value or row[1] != token or row[2] != step:
            return StepResult(StepOutcome.STALE)
        if row[3] is not None and row[3] > now + EARLY_TOLERANCE:
            return StepResult(StepOutcome.NOT_DUE)
        chain = from_snapshot(row[4] or {})
        try:
            plan = plan_step(chain, step)
        except ValueError:
            log.warning("escalation_step_out_of_range", incident_id=incident_id, step=step)
            return StepResult(StepOutcome.STALE)
        if not _claim(session, incident_id, token, plan, now):
            return StepResult(StepOutcome.STALE)
        service_id = int(row[5])
        if plan.exhausts:
            _exhausted(uow, incident_id, service_id, chain)
            return StepResult(StepOutcome.EXHAUSTED)
        held: list[int] | None = [] if hold_first else None
        paged = _fire(uow, incident_id, Severity(row[6]).value, chain, plan, now, held)
        _publish(uow, "incidents.incident.escalated", incident_id, service_id, step=step)
        assert plan.next_step is not None
        assert plan.wait_minutes is not None
        wait, next_step = minutes(plan.wait_minutes), plan.next_step
        if queued_now(wait):
            uow.after_commit(lambda: send(incident_id, token, next_step, wait))
        return StepResult(StepOutcome.FIRED, paged, tuple(held or ()))


def queued_now(wait: timedelta) -> bool:
    """Whether a next step ``wait`` ahead is queued when its level fires; a later one is handed
    to the queue by the sweep when it comes within the horizon (``rearm.hand_over``)."""
    return wait <= timedelta(seconds=get_settings().escalation.handoff_seconds)


def in_flight_until(due: datetime) -> datetime:
    """The ``escalation_resend_after`` of a step whose message is queued for ``due``: no sweep
    re-sends it before then (its grace past due)."""
    return due + timedelta(seconds=get_settings().escalation.sweep_grace_seconds)


def _claim(session: Session, incident_id: int, token: str, plan: StepPlan, now: datetime) -> bool:
    """The compare-and-set: advance the step only if nobody changed the escalation."""
    params: dict[str, Any] = {"b_incident_id": incident_id, "b_token": token, "b_step": plan.step}
    if plan.exhausts:
        claimed = session.execute(_EXHAUST, params)
    else:
        assert plan.wait_minutes is not None
        wait = minutes(plan.wait_minutes)
        params |= {
            "b_next_step": plan.next_step,
            "b_next_at": now + wait,
            "b_resend_after": in_flight_until(now + wait) if queued_now(wait) else None,
        }
        claimed = session.execute(_ADVANCE, params)
    return bool(claimed.rowcount)  # type: ignore[attr-defined]  # CursorResult


def _fire(
    uow: UnitOfWork,
    incident_id: int,
    severity: str,
    chain: Chain,
    plan: StepPlan,
    now: datetime,
    held: list[int] | None = None,
) -> tuple[int, ...]:
    session = uow.session
    assert plan.level is not None
    assert plan.cycle is not None
    level = chain.levels[plan.level]
    resolution = targets.resolve_level(session, level, now)
    where = f"level {plan.level + 1} of {len(chain.levels)}" + (
        f", repeat {plan.cycle}" if plan.cycle else ""
    )
    # The step's timeline lines are written together at the end, with one statement.
    lines = [
        timeline.line(
            incident_id,
            IncidentEventKind.ESCALATED,
            f"Escalated to {where}.",
            actor_label=ENGINE_LABEL,
            data={
                "step": plan.step,
                "level": plan.level,
                "repeat": plan.cycle,
                "warnings": resolution.warnings,
            },
        )
    ]
    paged: list[int] = []
    for person in resolution.recipients:
        inserted = insert_ignoring_conflict(
            session,
            _PAGE,
            {
                "incident_id": incident_id,
                "user_id": person.user_id,
                "level": plan.level,
                "repeat": plan.cycle,
                "schedule_id": person.schedule_id,
                "status": "requested",
                "created_at": now,
                "reason": person.reason[:200],
            },
            index_elements=["incident_id", "level", "repeat", "user_id"],
            returning=["id"],
        )
        if inserted is None:
            continue  # already paged for this level and pass
        paged.append(person.user_id)
        # Notifications are planned in this transaction and sent after commit.
        # From what this step holds: no reading the page request and incident back.
        facts = notifications.PageFacts(incident_id, person.user_id, now, severity)
        planned = notifications.plan_page(uow, int(inserted[0]), facts, held)
        unreachable = "" if planned else " No verified contact method: nobody is notified."
        lines.append(
            timeline.line(
                incident_id,
                IncidentEventKind.PAGE_REQUESTED,
                f"Page requested for {person.name} ({person.reason}).{unreachable}",
                actor_label=ENGINE_LABEL,
                data={
                    "page_request_id": int(inserted[0]),
                    "user_id": person.user_id,
                    "level": plan.level,
                    "repeat": plan.cycle,
                    "schedule_id": person.schedule_id,
                    "notifications": planned,
                },
            )
        )
    if not resolution.recipients:
        lines.append(
            timeline.line(
                incident_id,
                IncidentEventKind.NOBODY_TO_PAGE,
                f"Nobody to page at {where}: " + ("; ".join(resolution.warnings) or "no targets"),
                actor_label=ENGINE_LABEL,
                data={"level": plan.level, "repeat": plan.cycle},
            )
        )
    timeline.record_lines(session, lines)
    return tuple(paged)


def _exhausted(uow: UnitOfWork, incident_id: int, service_id: int, chain: Chain) -> None:
    passes = chain.repeat + 1
    timeline.record(
        uow.session,
        incident_id,
        IncidentEventKind.ESCALATION_EXHAUSTED,
        f"Escalation exhausted: every level fired {passes} time{'s' if passes > 1 else ''}"
        " and nobody acknowledged.",
        actor_label=ENGINE_LABEL,
    )
    _publish(uow, "incidents.incident.escalation_exhausted", incident_id, service_id)
