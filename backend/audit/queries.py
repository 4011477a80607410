"""Reading the audit log: search with filters and keyset pagination (newest first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from backend.audit.models import AuditEntry, Severity
from backend.core import clock


@dataclass(frozen=True)
class AuditFilter:
    text: str = ""
    action_prefix: str = ""
    severity: Severity | None = None
    actor_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    # Non-admins see rows they caused or that target teams they administer.
    visible_to_user_id: int | None = None
    visible_team_ids: tuple[int, ...] = ()


def search(
    session: Session, flt: AuditFilter, *, before_id: int | None = None, limit: int = 50
) -> list[AuditEntry]:
    stmt = select(AuditEntry)
    if flt.text:
        like = f"%{flt.text.lower()}%"
        stmt = stmt.where(
            or_(
                col(AuditEntry.action).ilike(like),
                col(AuditEntry.actor_label).ilike(like),
                col(AuditEntry.target_label).ilike(like),
            )
        )
    if flt.action_prefix:
        stmt = stmt.where(col(AuditEntry.action).startswith(flt.action_prefix))
    if flt.severity is not None:
        stmt = stmt.where(AuditEntry.severity == flt.severity)
    if flt.actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == flt.actor_id)
    if flt.since is not None:
        stmt = stmt.where(col(AuditEntry.at) >= clock.as_utc(flt.since))
    if flt.until is not None:
        stmt = stmt.where(col(AuditEntry.at) < clock.as_utc(flt.until))
    if flt.visible_to_user_id is not None:
        own = and_(
            col(AuditEntry.actor_type) == "user", col(AuditEntry.actor_id) == flt.visible_to_user_id
        )
        team_targets = and_(
            col(AuditEntry.target_type) == "team",
            col(AuditEntry.target_id).in_([str(t) for t in flt.visible_team_ids]),
        )
        stmt = stmt.where(or_(own, team_targets))
    if before_id is not None:
        stmt = stmt.where(col(AuditEntry.id) < before_id)
    stmt = stmt.order_by(col(AuditEntry.id).desc()).limit(limit)
    return list(session.exec(stmt))
