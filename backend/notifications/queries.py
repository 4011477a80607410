"""Reads: the delivery log (notifications with their attempts) and the outbox."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlmodel import col

from backend.core.actor import Actor, require_authenticated
from backend.core.db import unit_of_work
from backend.core.errors import PermissionDenied
from backend.core.settings import get_settings
from backend.identity.models import User
from backend.notifications import health, teams_webhook
from backend.notifications.models import (
    ChannelKind,
    DeliveryAttempt,
    Notification,
    OutboxMessage,
)
from backend.notifications.schemas import (
    AttemptOut,
    NotificationOut,
    OutboxMessageOut,
    ProviderHealthOut,
)

MAX_LIMIT = 200


def _shown(kind: ChannelKind, address: str) -> str:
    """A Teams webhook URL is a credential: only its host is shown (ADR 0008)."""
    return teams_webhook.mask(address) if kind is ChannelKind.TEAMS else address


def list_notifications(
    actor: Actor,
    *,
    incident_id: int | None = None,
    user_id: int | None = None,
    limit: int = 100,
) -> list[NotificationOut]:
    """Notifications (newest first) with every attempt. Raises: Unauthenticated."""
    require_authenticated(actor)
    limit = max(1, min(limit, MAX_LIMIT))
    stmt = (
        select(Notification, col(User.name))
        .join(User, col(User.id) == Notification.user_id)
        .order_by(col(Notification.id).desc())
        .limit(limit)
    )
    if incident_id is not None:
        stmt = stmt.where(col(Notification.incident_id) == incident_id)
    if user_id is not None:
        stmt = stmt.where(col(Notification.user_id) == user_id)
    with unit_of_work() as uow:
        rows = uow.session.execute(stmt).all()
        ids = [n.id for n, _ in rows]
        attempts: dict[int, list[AttemptOut]] = defaultdict(list)
        for a in uow.session.scalars(
            select(DeliveryAttempt)
            .where(col(DeliveryAttempt.notification_id).in_(ids))
            .order_by(col(DeliveryAttempt.attempt))
        ).all():
            attempts[a.notification_id].append(
                AttemptOut(
                    attempt=a.attempt,
                    provider=a.provider,
                    status=a.status,
                    duration_ms=a.duration_ms,
                    response=a.response,
                    at=a.at,
                )
            )
        return [
            NotificationOut(
                id=n.id or 0,
                purpose=n.purpose.value,
                incident_id=n.incident_id,
                page_request_id=n.page_request_id,
                user_id=n.user_id,
                user_name=name,
                channel=n.channel,
                address=_shown(n.channel, n.address),
                provider=n.provider,
                status=n.status,
                attempts=n.attempts,
                next_attempt_at=n.next_attempt_at,
                last_error=n.last_error,
                created_at=n.created_at,
                finished_at=n.finished_at,
                attempt_log=attempts.get(n.id or 0, []),
            )
            for n, name in rows
        ]


def list_outbox(actor: Actor, *, to: str | None = None, limit: int = 100) -> list[OutboxMessageOut]:
    """What the outbox provider "sent", newest first (platform admins: it holds codes)."""
    require_authenticated(actor)
    if not actor.is_platform_admin:
        raise PermissionDenied("The outbox is visible to platform admins.")
    stmt = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(min(limit, 500))
    if to is not None:
        stmt = stmt.where(col(OutboxMessage.to) == to)
    with unit_of_work() as uow:
        return [
            OutboxMessageOut(
                id=m.id or 0,
                channel=m.channel,
                to=_shown(m.channel, m.to),
                subject=m.subject,
                body=m.body,
                notification_id=m.notification_id,
                created_at=m.created_at,
            )
            for m in uow.session.scalars(stmt).all()
        ]


def list_provider_health(actor: Actor) -> list[ProviderHealthOut]:
    """Each provider's circuit breaker (NOTIF-04). Raises: Unauthenticated."""
    require_authenticated(actor)
    return [
        ProviderHealthOut(
            name=h.name,
            state=h.state.value,
            consecutive_failures=h.consecutive_failures,
            opened_at=h.opened_at,
            last_error=h.last_error,
            last_success_at=h.last_success_at,
        )
        for h in health.provider_health(get_settings().notifications)
    ]
