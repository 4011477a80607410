"""Who a level pages at an instant: users directly, schedules through who is on call then.

Shared by the engine (at fire time) and the paging preview (at any instant), so the preview
shows exactly what a step would do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.catalog.models import Service
from backend.escalation.models import EscalationLevel, EscalationPolicy
from backend.escalation.policy import Chain, Level, Target, TargetKind
from backend.identity.models import User
from backend.schedules import oncall
from backend.schedules import queries as schedule_queries

# Enough around the instant to find the shift that covers it.
_AROUND = timedelta(days=1)
_USERS = User.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
_ACTIVE_USER_NAME = sa.select(_USERS.c.name).where(
    _USERS.c.id == sa.bindparam("user_id"), _USERS.c.is_active.is_(True)
)


@dataclass(frozen=True)
class Recipient:
    user_id: int
    name: str
    schedule_id: int | None  # set when a schedule put them on call
    reason: str


@dataclass
class Resolution:
    recipients: list[Recipient] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def on_call_at(session: Session, schedule_id: int, at: datetime) -> int | None:
    """The user on call in ``schedule_id`` at ``at``; None for a gap or an unknown schedule."""
    schedule = schedule_queries.schedule_by_id(session, schedule_id)
    if schedule is None:
        return None
    lo, hi = at - _AROUND, at + _AROUND
    final = oncall.engine(session, schedule, lo, hi).final(lo, hi)
    current = next((s for s in final if s.start <= at < s.end), None)
    return None if current is None else current.user_id


def _active_user_name(session: Session, user_id: int) -> str | None:
    """The user's name, or None if they are gone or deactivated. A Core select: an ORM
    ``Session.get`` cost most of this function's CPU, run once per target per step."""
    return session.execute(_ACTIVE_USER_NAME, {"user_id": user_id}).scalar_one_or_none()


def _schedule_name(session: Session, schedule_id: int) -> str:
    schedule = schedule_queries.schedule_by_id(session, schedule_id)
    return schedule.name if schedule is not None else f"schedule {schedule_id}"


def _resolve_target(
    session: Session, target: Target, at: datetime
) -> tuple[Recipient | None, str | None]:
    """(recipient, warning): exactly one of the two is set."""
    if target.kind is TargetKind.USER:
        name = _active_user_name(session, target.id)
        if name is None:
            return None, f"user {target.id} no longer exists or is deactivated"
        return Recipient(target.id, name, None, "named on the level"), None
    name = _schedule_name(session, target.id)
    user_id = on_call_at(session, target.id, at)
    if user_id is None:
        return None, f"nobody is on call in '{name}'"
    user_name = _active_user_name(session, user_id)
    if user_name is None:
        return None, f"the on-call user of '{name}' is deactivated"
    return Recipient(user_id, user_name, target.id, f"on call in '{name}'"), None


def resolve_level(session: Session, level: Level, at: datetime) -> Resolution:
    """The distinct users ``level`` pages at ``at``, in target order, with warnings."""
    result = Resolution()
    seen: set[int] = set()
    for target in level.targets:
        recipient, warning = _resolve_target(session, target, at)
        if warning is not None:
            result.warnings.append(warning)
        if recipient is not None and recipient.user_id not in seen:
            seen.add(recipient.user_id)
            result.recipients.append(recipient)
    return result


def chain_of(session: Session, policy: EscalationPolicy) -> Chain:
    """The pure chain of a stored policy, levels in position order."""
    rows = session.exec(
        select(EscalationLevel)
        .where(EscalationLevel.policy_id == policy.id)
        .order_by(col(EscalationLevel.position))
    ).all()
    return Chain(
        levels=tuple(
            Level(
                timeout_minutes=row.timeout_minutes,
                targets=tuple(Target(TargetKind(t["type"]), int(t["id"])) for t in row.targets),
            )
            for row in rows
        ),
        repeat=policy.repeat,
    )


def team_default(session: Session, team_id: int) -> EscalationPolicy | None:
    return session.exec(
        select(EscalationPolicy).where(
            EscalationPolicy.team_id == team_id, col(EscalationPolicy.is_default).is_(True)
        )
    ).first()


def policy_for(session: Session, service: Service) -> tuple[EscalationPolicy | None, str]:
    """The policy an incident of ``service`` escalates with, and why (for the timeline).

    The service's own policy, else its team's default, else the platform triage service's
    policy (so platform admins can catch everything unrouted), else none.
    """
    if service.escalation_policy_id is not None:
        policy = session.get(EscalationPolicy, service.escalation_policy_id)
        if policy is not None:
            return policy, "the service's policy"
    if service.team_id is not None:
        policy = team_default(session, service.team_id)
        if policy is not None:
            return policy, "the team's default policy"
    if not service.is_triage:
        triage = session.exec(select(Service).where(col(Service.is_triage).is_(True))).first()
        if triage is not None and triage.escalation_policy_id is not None:
            policy = session.get(EscalationPolicy, triage.escalation_policy_id)
            if policy is not None:
                return policy, "the triage service's policy (no team policy applies)"
    return None, "no escalation policy applies"
