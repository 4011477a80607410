"""How a contact method's address appears in the audit log: enough to recognise it, never
whole where it is a credential."""

from __future__ import annotations

from backend.notifications import teams_webhook, web_push_subscription
from backend.notifications.models import ChannelKind


def masked(kind: ChannelKind, address: str) -> str:
    """A browser subscription: its push service's host, never its keys; a Teams Workflows URL
    (a credential, ADR 0008): masked; anything else: its last four characters."""
    if kind is ChannelKind.WEB_PUSH:
        return web_push_subscription.host_of(address)
    if kind is ChannelKind.TEAMS:
        return teams_webhook.mask(address)
    return address if len(address) <= 4 else f"…{address[-4:]}"
