"""The signed-in user's own reads on /notifications: the messages the outbox provider stored
for them (their verification codes and pages, while a channel uses the outbox) and their
quiet hours. Each checks that the actor reads only their own (a platform admin sees the whole
outbox through ``queries.list_outbox``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from backend.core.actor import Actor, require_authenticated
from backend.core.db import unit_of_work
from backend.core.errors import PermissionDenied
from backend.core.settings import NotificationSettings, get_settings
from backend.notifications.models import ChannelKind, Notification, OutboxMessage, QuietHours
from backend.notifications.schemas import OutboxMessageOut, QuietHoursIn

MAX_OWN = 50


def _own(actor: Actor, user_id: int) -> None:
    require_authenticated(actor)
    if actor.user_id != user_id:
        raise PermissionDenied("These are only shown to the user themself.")


def outbox_channels(settings: NotificationSettings) -> list[str]:
    """The channels whose provider is the outbox (nothing is really sent on them)."""
    return [
        kind.value
        for kind in ChannelKind
        if getattr(settings, f"{kind.value}_provider", "outbox") == "outbox"
    ]


def my_outbox(actor: Actor, user_id: int, *, limit: int = 10) -> list[OutboxMessageOut]:
    """The newest outbox messages of notifications addressed to ``user_id`` (their codes and
    pages), only for that user; empty when no channel uses the outbox.

    Raises:
        Unauthenticated, PermissionDenied (someone else's, platform admins included: they
        have the whole outbox).
    """
    _own(actor, user_id)
    if not outbox_channels(get_settings().notifications):
        return []
    stmt = (
        select(OutboxMessage)
        .join(Notification, col(Notification.id) == OutboxMessage.notification_id)
        .where(col(Notification.user_id) == user_id)
        .order_by(col(OutboxMessage.id).desc())
        .limit(max(1, min(limit, MAX_OWN)))
    )
    with unit_of_work() as uow:
        return [
            OutboxMessageOut(
                id=m.id or 0,
                channel=m.channel,
                to=m.to,
                subject=m.subject,
                body=m.body,
                notification_id=m.notification_id,
                created_at=m.created_at,
            )
            for m in uow.session.scalars(stmt).all()
        ]


def my_quiet_hours(actor: Actor, user_id: int) -> QuietHoursIn | None:
    """The user's quiet hours as HH:MM, or None. Raises: Unauthenticated, PermissionDenied
    (someone else's, unless a platform admin: they may set anyone's)."""
    require_authenticated(actor)
    if actor.user_id != user_id and not actor.is_platform_admin:
        raise PermissionDenied("Only the user (or a platform admin) sees their quiet hours.")
    with unit_of_work() as uow:
        row = uow.session.get(QuietHours, user_id)
        if row is None:
            return None
        start, end = row.start_minute, row.end_minute
    return QuietHoursIn(
        start=f"{start // 60:02d}:{start % 60:02d}", end=f"{end // 60:02d}:{end % 60:02d}"
    )
