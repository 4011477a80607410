"""Re-arming an escalation step: by hand ("escalate now") or by the sweeper.

Both only write the due work (a token, ``next_escalation_at``) and send the step; the step
itself (``engine.run_step``) decides, with its compare-and-set, whether anything happens.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import bindparam, or_, select, update

from backend.core import clock, sweep_backoff
from backend.core.actor import Actor
from backend.core.db import UnitOfWork, unit_of_work
from backend.core.errors import InvalidTransition
from backend.core.settings import get_settings
from backend.escalation.engine import in_flight_until, new_token, send, start, try_send
from backend.escalation.policy import from_snapshot, plan_step
from backend.incidents import timeline
from backend.incidents.models import EscalationState, Incident, IncidentEventKind, IncidentStatus

log = structlog.get_logger(__name__)
_INCIDENT = Incident.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime


# --- by hand -------------------------------------------------------------------------------


def escalate_now(uow: UnitOfWork, actor: Actor, incident: Incident) -> None:
    """Fire the pending level at once with a fresh token (older messages become stale).

    An incident that never escalated starts its policy now, if one applies today.

    Raises:
        InvalidTransition: not OPEN, no policy applies, or every level has already fired.
    """
    assert incident.id is not None
    if incident.status is not IncidentStatus.OPEN:
        raise InvalidTransition(
            f"Only an OPEN incident escalates (this one is {incident.status.value}).",
            status=incident.status.value,
            transition="escalate",
        )
    if incident.escalation_state is not EscalationState.ACTIVE:
        never_started = incident.escalation_snapshot is None and not incident.in_maintenance
        if (
            never_started
            and start(uow, incident.id, actor_label=actor.label) is EscalationState.ACTIVE
        ):
            return
        raise InvalidTransition(
            "There is no escalation to advance (never started, or every level has fired).",
            status=incident.status.value,
            transition="escalate",
        )
    chain = from_snapshot(incident.escalation_snapshot or {})
    step = incident.escalation_step
    if plan_step(chain, step).exhausts:
        raise InvalidTransition(
            "Every level has already fired; nothing is left to escalate to.",
            status=incident.status.value,
            transition="escalate",
        )
    token, incident_id = new_token(), incident.id
    rearmed = uow.session.execute(
        update(_INCIDENT)
        .where(
            _INCIDENT.c.id == incident_id,
            _INCIDENT.c.status == IncidentStatus.OPEN.value,
            _INCIDENT.c.escalation_step == step,
        )
        .values(
            escalation_token=token, next_escalation_at=clock.now(), escalation_resend_after=None
        )
    )
    if not rearmed.rowcount:  # type: ignore[attr-defined]  # CursorResult
        raise InvalidTransition("The escalation moved on meanwhile; try again.")
    uow.session.expire(incident)
    timeline.record(
        uow.session,
        incident_id,
        IncidentEventKind.ESCALATED,
        f"{actor.label} escalated by hand.",
        actor=actor,
        data={"manual": True, "step": step},
    )
    uow.after_commit(lambda: send(incident_id, token, step))


# --- the sweeper -----------------------------------------------------------------------------

# Compare-and-set on (token, step): a step that moved on meanwhile keeps the stamp it got then.
_STAMP = (
    update(_INCIDENT)
    .where(
        _INCIDENT.c.id == bindparam("b_id"),
        _INCIDENT.c.escalation_token == bindparam("b_token"),
        _INCIDENT.c.escalation_step == bindparam("b_step"),
    )
    .values(escalation_resend_after=bindparam("b_after"))
)


def hand_over(now: datetime | None = None) -> int:
    """Queue every step due within the hand-over horizon that is not queued yet; returns how
    many. Each goes with the delay that is left, and is stamped so that no sweep re-sends it
    before it is due + grace (``engine.queued_now``: steps further ahead are not queued when
    their level fires).

    Run with the sweep, every few seconds; the horizon is longer than that period, so each
    step is handed over before it is due. One missed by every hand-over while in the horizon
    (no scheduler for that long) is past due, and the sweep re-sends it after the grace.
    Works in batches of ``sweep_batch`` until none is left (at most ``_MAX_BATCHES``): a storm
    can bring more steps into the horizon per period than one batch holds.
    """
    now = now or clock.now()
    handed = 0
    for _ in range(_MAX_BATCHES):
        found, queued = _hand_over_batch(now)
        handed += queued
        if found < get_settings().escalation.sweep_batch or not queued:
            break  # the last batch, or the broker takes nothing: the next sweep tries again
    return handed


_MAX_BATCHES = 40


def _armed(*conditions: Any) -> list[tuple[int, str, int, datetime]]:
    """(id, token, step, due) of OPEN incidents with a step armed and ``conditions``, earliest
    due first, at most ``sweep_batch``."""
    cols = _INCIDENT.c
    with unit_of_work() as uow:
        rows = uow.session.execute(
            select(cols.id, cols.escalation_token, cols.escalation_step, cols.next_escalation_at)
            .where(
                cols.status == IncidentStatus.OPEN.value,
                cols.escalation_token.is_not(None),
                *conditions,
            )
            .order_by(cols.next_escalation_at)
            .limit(get_settings().escalation.sweep_batch)
        ).all()
    return [(int(r[0]), str(r[1]), int(r[2]), r[3]) for r in rows]


def _hand_over_batch(now: datetime) -> tuple[int, int]:
    """One batch of :func:`hand_over`: (steps found, steps queued and stamped)."""
    settings = get_settings().escalation
    cols = _INCIDENT.c
    soon = _armed(
        cols.escalation_resend_after.is_(None),
        cols.next_escalation_at > now,
        cols.next_escalation_at <= now + timedelta(seconds=settings.handoff_seconds),
    )
    stamps = [
        {"b_id": incident_id, "b_token": token, "b_step": step, "b_after": in_flight_until(due)}
        for incident_id, token, step, due in soon
        if try_send(incident_id, token, step, due - now)
    ]
    if stamps:
        with unit_of_work() as uow:
            uow.session.execute(_STAMP, stamps)
    return len(soon), len(stamps)


def sweep(now: datetime | None = None) -> int:
    """Re-send every step that is past due by more than the grace; returns how many.

    Safe at any time: steps are idempotent, so re-sending one still in flight does nothing.
    A step this sweeper already re-sent is not re-sent again before its back-off
    (``sweep_backoff``): under a backlog its message is most likely still queued.
    """
    settings = get_settings().escalation
    now = now or clock.now()
    grace = timedelta(seconds=settings.sweep_grace_seconds)
    cols = _INCIDENT.c
    due = _armed(
        cols.next_escalation_at <= now - grace,
        # Re-sent by an earlier sweep: probably still queued, wait out its back-off.
        or_(cols.escalation_resend_after.is_(None), cols.escalation_resend_after <= now),
    )
    stamps = []
    for incident_id, token, step, due_at in due:
        log.info("escalation_rearmed", incident_id=incident_id, step=step)
        if try_send(incident_id, token, step):
            stamps.append(
                {
                    "b_id": incident_id,
                    "b_token": token,
                    "b_step": step,
                    "b_after": sweep_backoff.resend_after(now, due_at, grace),
                }
            )
    if stamps:
        # Stamped only once sent (a failed send is retried by the next sweep); compare-and-set
        # on (token, step), so a step that moved on meanwhile keeps its cleared stamp.
        with unit_of_work() as uow:
            uow.session.execute(_STAMP, stamps)
    return len(due)
