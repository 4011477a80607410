"""The embedded default: every message is stored as an ``OutboxMessage`` row (and shown on a
page), so the whole product can be tried without a single credential."""

from __future__ import annotations

from sqlalchemy import insert

from backend.core import clock
from backend.core.db import unit_of_work
from backend.notifications.models import ChannelKind, OutboxMessage
from backend.notifications.providers.base import OutgoingMessage, ProviderResult

_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
_INSERT = insert(_OUTBOX).returning(_OUTBOX.c.id)


class OutboxProvider:
    name = "outbox"

    def send(self, message: OutgoingMessage) -> ProviderResult:
        with unit_of_work() as uow:
            # A Core insert: an ORM object and its flush cost more CPU than the statement.
            row_id = uow.session.execute(
                _INSERT,
                {
                    "channel": ChannelKind(message.channel),
                    "to": message.to,
                    "subject": message.subject[:300],
                    "body": message.body,
                    "notification_id": message.notification_id,
                    "created_at": clock.now(),
                },
            ).scalar_one()
        return ProviderResult(
            ok=True, status="delivered", summary=f"stored as outbox message {row_id}"
        )
