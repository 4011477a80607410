"""The profile page's "Calendars" section: connect Google Calendar or Outlook (OAuth), see the
last sync, sync now, disconnect. The OAuth callback lands on /profile?calendar=<outcome>."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import reflex as rx
from pydantic import BaseModel

from backend.core.actor import Actor
from backend.identity import service as identity
from backend.schedules import calendar_sync
from backend.schedules.models import CalendarProvider, ConnectionStatus
from backend.schedules.schemas import ConnectionOut
from oncall_app.services import call
from oncall_app.state.schedules_view import fmt, zone
from oncall_app.state.session import SessionState

LABELS = {CalendarProvider.GOOGLE: "Google Calendar", CalendarProvider.OUTLOOK: "Outlook"}
OUTCOMES = {
    "connected": "Calendar connected: your shifts are being pushed to it.",
    "failed": "The calendar could not be connected; please try again.",
    "denied": "Calendar access was not granted.",
}


class ProviderRow(BaseModel):
    provider: str
    label: str
    configured: bool
    connection_id: int
    connected: bool
    status: str
    last_synced: str
    last_error: str


def provider_rows(
    connections: list[ConnectionOut], configured: list[CalendarProvider], viewer_zone: str
) -> list[ProviderRow]:
    by_provider = {c.provider: c for c in connections}
    rows = []
    for provider, label in LABELS.items():
        c = by_provider.get(provider)
        connected = c is not None and c.status is ConnectionStatus.CONNECTED
        rows.append(
            ProviderRow(
                provider=provider.value,
                label=label,
                configured=provider in configured,
                connection_id=c.id if c else 0,
                connected=connected,
                status="connected" if connected else "not connected",
                last_synced=(
                    fmt(c.last_synced_at, zone(viewer_zone)) if c and c.last_synced_at else ""
                ),
                last_error=(c.last_error or "") if c else "",
            )
        )
    return rows


def _load(actor: Actor) -> list[ProviderRow]:
    assert actor.user_id is not None
    viewer_zone = identity.get_user(actor, actor.user_id).time_zone
    return provider_rows(
        calendar_sync.list_connections(actor), calendar_sync.configured_providers(), viewer_zone
    )


class CalendarsState(SessionState):
    calendars: list[ProviderRow] = []
    outcome: str = ""

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        query = parse_qs(str(self.router.url.query or ""))
        self.outcome = OUTCOMES.get((query.get("calendar") or [""])[0], "")
        return await self._refresh()

    async def _refresh(self):
        try:
            self.calendars = await call(_load, await self._actor())
        except Exception as exc:
            return self._fail(exc)
        return None

    @rx.event
    async def connect(self, provider: str):
        try:
            url = await call(
                calendar_sync.start_connect, await self._actor(), CalendarProvider(provider)
            )
        except Exception as exc:
            return self._fail(exc)
        # Same tab: the provider sends the browser back to /api/calendar/oauth/callback.
        return rx.call_script(f"window.location.assign({json.dumps(url)})")

    @rx.event
    async def sync_now(self, connection_id: int):
        try:
            await call(calendar_sync.request_sync, await self._actor(), int(connection_id))
        except Exception as exc:
            return self._fail(exc)
        return rx.toast.success("Sync requested: your calendar updates in a moment")

    @rx.event
    async def disconnect(self, connection_id: int):
        try:
            await call(calendar_sync.disconnect, await self._actor(), int(connection_id))
        except Exception as exc:
            return self._fail(exc)
        self.outcome = ""
        await self._refresh()
        return rx.toast.success("Calendar disconnected; the events we created were removed")
