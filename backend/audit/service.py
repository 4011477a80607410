"""Writing audit rows. Called by every service inside its own unit of work."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from backend.audit import queries
from backend.audit.models import AuditEntry, Severity
from backend.audit.queries import AuditFilter
from backend.audit.schemas import AuditEntryOut
from backend.core.actor import Actor, require_authenticated
from backend.core.db import UnitOfWork, unit_of_work
from backend.core.events import DomainEvent, get_bus
from backend.core.logging import redact_mapping
from backend.teams import queries as team_queries


def record(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    *,
    target_type: str = "",
    target_id: int | str | None = None,
    target_label: str = "",
    severity: Severity = Severity.MEDIUM,
    diff: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit row for ``action`` (``namespace.entity.verb``) to the current transaction.

    The diff is redacted: a secret never reaches the audit log even if a caller passes one.
    """
    entry = AuditEntry(
        actor_type=actor.kind.value,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        target_label=target_label,
        ip=actor.ip,
        user_agent=(actor.user_agent or "")[:500] or None,
        severity=severity,
        diff=json_safe(redact_mapping(diff or {})),
    )
    uow.session.add(entry)
    event = DomainEvent(
        name="audit.entry.created",
        payload={"action": action},
        topics=("audit",),
        actor_label=actor.label,
    )
    uow.after_commit(lambda: get_bus().publish(event))
    return entry


def json_safe(data: dict[str, Any]) -> dict[str, Any]:
    """Datetimes, enums and other values as the JSON column can store them."""
    result: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return result


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields that differ, as ``{field: [old, new]}``."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def search_entries(
    actor: Actor, flt: AuditFilter, *, before_id: int | None = None, limit: int = 50
) -> list[AuditEntryOut]:
    """Search the audit log, newest first, ``limit`` rows older than ``before_id``.

    Platform admins see everything; other users see what they did and what was done to teams
    they administer.

    Raises:
        Unauthenticated.
    """
    require_authenticated(actor)
    limit = max(1, min(limit, 200))
    with unit_of_work() as uow:
        if not actor.is_platform_admin:
            flt = replace(
                flt,
                visible_to_user_id=actor.user_id if actor.user_id is not None else -1,
                visible_team_ids=tuple(
                    team_queries.teams_administered_by(uow.session, actor.user_id or -1)
                ),
            )
        rows = queries.search(uow.session, flt, before_id=before_id, limit=limit)
        return [AuditEntryOut.model_validate(row, from_attributes=True) for row in rows]
