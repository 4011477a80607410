"""The embedded default: every message is stored as an ``OutboxMessage`` row (and shown on a
page), so the whole product can be tried without a single credential."""

from __future__ import annotations

from backend.core.db import unit_of_work
from backend.notifications.models import ChannelKind, OutboxMessage
from backend.notifications.providers.base import OutgoingMessage, ProviderResult


class OutboxProvider:
    name = "outbox"

    def send(self, message: OutgoingMessage) -> ProviderResult:
        with unit_of_work() as uow:
            row = OutboxMessage(
                channel=ChannelKind(message.channel),
                to=message.to,
                subject=message.subject[:300],
                body=message.body,
                notification_id=message.notification_id,
            )
            uow.session.add(row)
            uow.session.flush()
            row_id = row.id
        return ProviderResult(
            ok=True, status="delivered", summary=f"stored as outbox message {row_id}"
        )
