"""Integration commands and reads for the API and the admin UI (INT-01, INT-05).

The secret is 32 random bytes, returned only by :func:`create_integration` and
:func:`rotate_secret`; stored as SHA-256 (bearer and routing-key lookups) and Fernet-encrypted
(HMAC verification needs the secret itself). Rotation keeps the previous secret valid for
``ONCALL_INGEST__SECRET_GRACE_HOURS``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from backend.audit import service as audit
from backend.audit.models import Severity as AuditSeverity
from backend.core import clock, secretbox
from backend.core.actor import Actor
from backend.core.db import UnitOfWork, unit_of_work
from backend.core.events import DomainEvent, get_bus
from backend.core.secrets import new_token, sha256_hex
from backend.core.settings import get_settings
from backend.ingest import access, cache, examples
from backend.ingest.errors import IntegrationNotFound
from backend.ingest.models import DeliveryOutcome, InboundDelivery, Integration
from backend.ingest.schemas import (
    DeliveryOut,
    DeliveryStats,
    IntegrationCreate,
    IntegrationOut,
    IntegrationSecret,
    IntegrationUpdate,
)
from backend.teams.policy import TeamAction

SECRET_BYTES = 32


def _out(row: Integration) -> IntegrationOut:
    assert row.id is not None
    return IntegrationOut(
        id=row.id,
        key=row.key,
        name=row.name,
        type=row.type,
        service_id=row.service_id,
        url=examples.integration_url(get_settings().base_url, row.key, row.type),
        dedup_window_seconds=row.dedup_window_seconds,
        auto_resolve=row.auto_resolve,
        enabled=row.enabled,
        previous_secret_expires_at=row.previous_secret_expires_at,
        created_at=row.created_at,
    )


def _with_secret(row: Integration, secret: str) -> IntegrationSecret:
    out = _out(row)
    curl = examples.curl_example(get_settings().base_url, row.key, row.type, secret)
    return IntegrationSecret(integration=out, secret=secret, curl_example=curl)


def _load(session: Session, actor: Actor, integration_id: int, action: TeamAction) -> Integration:
    row = session.get(Integration, integration_id)
    if row is None:
        raise IntegrationNotFound(f"Integration {integration_id} does not exist.")
    if row.service_id is None:
        # Orphaned by a deleted service: only platform admins can see or re-home it.
        if not actor.is_platform_admin:
            raise IntegrationNotFound(f"Integration {integration_id} does not exist.")
    else:
        access.authorize_service(session, actor, row.service_id, action)
    return row


def _changed(
    uow: UnitOfWork, actor: Actor, row: Integration, action: str, diff: dict[str, Any]
) -> None:
    assert row.id is not None
    audit.record(
        uow, actor, f"ingest.integration.{action}", target_type="integration", target_id=row.id,
        target_label=row.name,
        severity=AuditSeverity.HIGH if action == "secret_rotated" else AuditSeverity.MEDIUM,
        diff=diff,
    )  # fmt: skip
    event = DomainEvent(
        name=f"ingest.integration.{action}",
        payload={"integration_id": row.id, "service_id": row.service_id},
        topics=("integrations", f"service:{row.service_id}"),
        actor_label=actor.label,
    )
    uow.after_commit(cache.clear_all)
    uow.after_commit(lambda: get_bus().publish(event))


def _snapshot(row: Integration) -> dict[str, Any]:
    return {
        "name": row.name,
        "type": row.type.value,
        "service_id": row.service_id,
        "dedup_window_seconds": row.dedup_window_seconds,
        "auto_resolve": row.auto_resolve,
        "enabled": row.enabled,
    }


def create_integration(actor: Actor, data: IntegrationCreate) -> IntegrationSecret:
    """Create an integration for a service (TEAM_ADMIN); the secret is in the result only.

    Raises:
        Unauthenticated, NotFound (service), PermissionDenied, PermanentError (no secret key).
    """
    secret = new_token(SECRET_BYTES)
    with unit_of_work() as uow:
        access.authorize_service(uow.session, actor, data.service_id, TeamAction.EDIT)
        row = Integration(
            key=new_token(16),
            name=data.name,
            type=data.type,
            service_id=data.service_id,
            secret_hash=sha256_hex(secret),
            secret_encrypted=secretbox.encrypt(secret),
            dedup_window_seconds=data.dedup_window_seconds,
            auto_resolve=data.auto_resolve,
        )
        uow.session.add(row)
        uow.session.flush()
        _changed(uow, actor, row, "created", {"after": _snapshot(row)})
        return _with_secret(row, secret)


def rotate_secret(actor: Actor, integration_id: int) -> IntegrationSecret:
    """Issue a new secret; the current one stays valid for the grace period (TEAM_ADMIN).

    Raises:
        IntegrationNotFound, PermissionDenied, PermanentError (no secret key).
    """
    secret = new_token(SECRET_BYTES)
    grace = timedelta(hours=get_settings().ingest.secret_grace_hours)
    with unit_of_work() as uow:
        row = _load(uow.session, actor, integration_id, TeamAction.EDIT)
        row.previous_secret_hash = row.secret_hash
        row.previous_secret_encrypted = row.secret_encrypted
        row.previous_secret_expires_at = clock.now() + grace
        row.secret_hash = sha256_hex(secret)
        row.secret_encrypted = secretbox.encrypt(secret)
        row.updated_at = clock.now()
        uow.session.add(row)
        _changed(
            uow,
            actor,
            row,
            "secret_rotated",
            {"previous_valid_until": row.previous_secret_expires_at},
        )
        return _with_secret(row, secret)


def update_integration(
    actor: Actor, integration_id: int, data: IntegrationUpdate
) -> IntegrationOut:
    """Rename, re-home, tune or disable an integration (TEAM_ADMIN, of the new service too).

    Raises:
        IntegrationNotFound, NotFound (new service), PermissionDenied.
    """
    with unit_of_work() as uow:
        row = _load(uow.session, actor, integration_id, TeamAction.EDIT)
        before = _snapshot(row)
        changes = data.model_dump(exclude_none=True)
        if "service_id" in changes:
            access.authorize_service(uow.session, actor, changes["service_id"], TeamAction.EDIT)
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at = clock.now()
        uow.session.add(row)
        diff = audit.changes(before, _snapshot(row))
        if diff:
            _changed(uow, actor, row, "updated", diff)
        return _out(row)


def delete_integration(actor: Actor, integration_id: int) -> None:
    """Delete an integration and its delivery log; its alerts stay (TEAM_ADMIN).

    Raises:
        IntegrationNotFound, PermissionDenied.
    """
    with unit_of_work() as uow:
        row = _load(uow.session, actor, integration_id, TeamAction.EDIT)
        _changed(uow, actor, row, "deleted", {"before": _snapshot(row)})
        uow.session.delete(row)


def get_integration(actor: Actor, integration_id: int) -> IntegrationOut:
    """One integration (team members).

    Raises:
        IntegrationNotFound, PermissionDenied.
    """
    with unit_of_work() as uow:
        return _out(_load(uow.session, actor, integration_id, TeamAction.VIEW))


def list_integrations(actor: Actor, *, service_id: int | None = None) -> list[IntegrationOut]:
    """Integrations the actor may see, optionally of one service.

    Raises:
        Unauthenticated, NotFound, PermissionDenied (for an explicit service).
    """
    with unit_of_work() as uow:
        stmt = select(Integration).order_by(col(Integration.name))
        if service_id is not None:
            access.authorize_service(uow.session, actor, service_id, TeamAction.VIEW)
            stmt = stmt.where(Integration.service_id == service_id)
        else:
            visible = access.visible_service_ids(uow.session, actor)
            if visible is not None:
                stmt = stmt.where(col(Integration.service_id).in_(visible))
        return [_out(row) for row in uow.session.exec(stmt)]


def list_deliveries(
    actor: Actor,
    integration_id: int,
    *,
    outcome: DeliveryOutcome | None = None,
    before_id: int | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[DeliveryOut]:
    """The delivery log of an integration, newest first (team members); ``since`` keeps
    deliveries received at or after that moment.

    Raises:
        IntegrationNotFound, PermissionDenied.
    """
    limit = max(1, min(limit, 200))
    with unit_of_work() as uow:
        _load(uow.session, actor, integration_id, TeamAction.VIEW)
        stmt = select(InboundDelivery).where(InboundDelivery.integration_id == integration_id)
        if outcome is not None:
            stmt = stmt.where(InboundDelivery.outcome == outcome)
        if before_id is not None:
            stmt = stmt.where(col(InboundDelivery.id) < before_id)
        if since is not None:
            stmt = stmt.where(col(InboundDelivery.received_at) >= clock.as_utc(since))
        rows = uow.session.exec(stmt.order_by(col(InboundDelivery.id).desc()).limit(limit))
        return [DeliveryOut.model_validate(row, from_attributes=True) for row in rows]


def delivery_stats(
    actor: Actor, integration_ids: list[int], *, since: datetime
) -> dict[int, DeliveryStats]:
    """Per integration, deliveries since ``since`` counted by outcome, and the latest one's
    time and outcome (for the admin list). Integrations the actor may not see are left out.

    Raises:
        Unauthenticated.
    """
    with unit_of_work() as uow:
        visible = access.visible_service_ids(uow.session, actor)
        ids_stmt = select(Integration.id).where(col(Integration.id).in_(integration_ids))
        if visible is not None:
            ids_stmt = ids_stmt.where(col(Integration.service_id).in_(visible))
        allowed = [int(i) for i in uow.session.exec(ids_stmt) if i is not None]
        # SQLAlchemy's select: sqlmodel's typed overloads stop at four columns.
        stmt = (
            sa_select(
                col(InboundDelivery.integration_id),
                col(InboundDelivery.outcome),
                func.count(),
                func.max(InboundDelivery.received_at),
                func.max(InboundDelivery.id),
            )
            .where(col(InboundDelivery.integration_id).in_(allowed))
            .where(col(InboundDelivery.received_at) >= clock.as_utc(since))
            .group_by(col(InboundDelivery.integration_id), col(InboundDelivery.outcome))
        )
        stats = {i: DeliveryStats(integration_id=i) for i in allowed}
        newest: dict[int, int] = {}
        for integration_id, outcome, count, last_at, last_id in uow.session.execute(stmt):
            item = stats[integration_id]
            item.counts[DeliveryOutcome(outcome).value] = int(count)
            if last_id > newest.get(integration_id, 0):  # ids order deliveries, times may tie
                newest[integration_id] = last_id
                item.last_received_at = clock.as_utc(last_at)
                item.last_outcome = DeliveryOutcome(outcome)
        return stats
