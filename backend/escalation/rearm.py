"""Re-arming an escalation step: by hand ("escalate now") or by the sweeper.

Both only write the due work (a token, ``next_escalation_at``) and send the step; the step
itself (``engine.run_step``) decides, with its compare-and-set, whether anything happens.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update

from backend.core import clock
from backend.core.actor import Actor
from backend.core.db import UnitOfWork, unit_of_work
from backend.core.errors import InvalidTransition
from backend.core.settings import get_settings
from backend.escalation.engine import new_token, send, start
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
        .values(escalation_token=token, next_escalation_at=clock.now())
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


def sweep(now: datetime | None = None) -> int:
    """Re-send every step that is past due by more than the grace; returns how many.

    Safe at any time: steps are idempotent, so re-sending one still in flight does nothing.
    """
    settings = get_settings().escalation
    now = now or clock.now()
    cutoff = now - timedelta(seconds=settings.sweep_grace_seconds)
    cols = _INCIDENT.c
    with unit_of_work() as uow:
        due = uow.session.execute(
            select(cols.id, cols.escalation_token, cols.escalation_step)
            .where(
                cols.status == IncidentStatus.OPEN.value,
                cols.escalation_token.is_not(None),
                cols.next_escalation_at <= cutoff,
            )
            .order_by(cols.next_escalation_at)
            .limit(settings.sweep_batch)
        ).all()
    for incident_id, token, step in due:
        log.info("escalation_rearmed", incident_id=incident_id, step=step)
        send(int(incident_id), str(token), int(step))
    return len(due)
