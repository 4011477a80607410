"""Alert search (ALERT-02): filters (service, severity, status, time, text, incident), cursor
pagination with "Load more", and live arrivals on topic ``alerts`` shown at the top, marked
fresh until the next search.

The page reads ``?q=``, ``?service=`` and ``?incident=`` from its URL so other pages can link to
a filtered view (the integration page's test alert, an alert's incident).
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from pydantic import BaseModel

from backend.catalog import service as catalog
from backend.core import clock
from backend.core.actor import Actor
from backend.core.events import DomainEvent
from backend.incidents.models import Severity
from backend.ingest import alerts
from backend.ingest.models import AlertStatus
from backend.ingest.queries import AlertFilter, encode_cursor
from backend.ingest.schemas import AlertOut, AlertPage
from oncall_app.services import call
from oncall_app.state.integrations import Choice, since_from
from oncall_app.state.session import SessionState

PAGE_SIZE = 50
SEVERITIES = [s.value for s in Severity]
STATUSES = [s.value for s in AlertStatus]
# Rows kept when live arrivals push older ones down (Load more fetches below the last row).
MAX_ROWS = 500


class AlertRow(BaseModel):
    id: int
    severity: str
    status: str
    service_id: int
    service_name: str
    title: str
    source: str
    dedup_key: str
    received_at: str
    incident_id: int
    fresh: bool = False


def alert_row(a: AlertOut, names: dict[int, str], *, fresh: bool = False) -> AlertRow:
    return AlertRow(
        id=a.id,
        severity=a.severity.value,
        status=a.status.value,
        service_id=a.service_id,
        service_name=names.get(a.service_id, f"service #{a.service_id}"),
        title=a.title,
        source=a.source,
        dedup_key=a.dedup_key,
        received_at=a.received_at.isoformat(),
        incident_id=a.incident_id or 0,
        fresh=fresh,
    )


def merge_live(current: list[AlertRow], newest: list[AlertRow]) -> list[AlertRow]:
    """Put alerts newer than the top row first (marked fresh) and refresh the status of rows
    already shown; the order stays newest first."""
    top = current[0].id if current else 0
    by_id = {r.id: r for r in newest}
    arrived = [r.model_copy(update={"fresh": True}) for r in newest if r.id > top]
    kept = [
        (by_id[r.id].model_copy(update={"fresh": r.fresh}) if r.id in by_id else r) for r in current
    ]
    return [*arrived, *kept][:MAX_ROWS]


def _int(raw: Any) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() else None


class AlertsState(SessionState):
    items: list[AlertRow] = []
    services: list[Choice] = []
    cursor: str = ""
    loaded: bool = False
    loading_more: bool = False
    text: str = ""
    service_filter: str = ""
    severity_filter: str = ""
    status_filter: str = ""
    since_filter: str = ""
    incident_filter: str = ""
    # Bumped when the search text is set from outside the input: the input remounts with it.
    text_generation: int = 0
    _names: dict[int, str] = {}

    @rx.var
    def filtered(self) -> bool:
        return any(
            (
                self.text,
                self.service_filter,
                self.severity_filter,
                self.status_filter,
                self.since_filter,
                self.incident_filter,
            )
        )

    def _filter(self) -> AlertFilter:
        return AlertFilter(
            service_id=_int(self.service_filter),
            severity=Severity(self.severity_filter) if self.severity_filter in SEVERITIES else None,
            status=AlertStatus(self.status_filter) if self.status_filter in STATUSES else None,
            since=since_from(self.since_filter, clock.now()),
            text=self.text.strip()[:200],
            incident_id=_int(self.incident_filter),
        )

    async def _search(self, actor: Actor, cursor: str | None) -> AlertPage:
        return await call(
            alerts.search_alerts, actor, self._filter(), cursor=cursor, limit=PAGE_SIZE
        )

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        params = self.router.url.query_parameters
        self.text = str(params.get("q", ""))
        self.service_filter = str(_int(params.get("service")) or "")
        self.incident_filter = str(_int(params.get("incident")) or "")
        self.severity_filter = self.status_filter = self.since_filter = ""
        self.text_generation += 1
        self._watch(AlertsState, ("alerts",))
        try:
            actor = await self._actor()
            services = await call(catalog.list_services, actor)
            self._names = {s.id: s.name for s in services}
            self.services = [Choice(id=str(s.id), name=s.name) for s in services]
            await self._first_page(actor)
        except Exception as exc:
            return self._fail(exc)
        return None

    async def _first_page(self, actor: Actor) -> None:
        page = await self._search(actor, None)
        self.items = [alert_row(a, self._names) for a in page.items]
        self.cursor = page.next_cursor or ""
        self.loaded = True

    async def _research(self):
        try:
            await self._first_page(await self._actor())
        except Exception as exc:
            return self._fail(exc)
        return None

    @rx.event
    async def text_changed(self, value: str):
        self.text = value
        return await self._research()

    @rx.event
    async def set_filter(self, name: str, value: str):
        if name not in ("service", "severity", "status", "since", "incident"):
            return None
        setattr(self, f"{name}_filter", str(value or ""))
        return await self._research()

    @rx.event
    async def clear_filters(self):
        self.text = ""
        self.service_filter = self.severity_filter = self.status_filter = ""
        self.since_filter = self.incident_filter = ""
        self.text_generation += 1
        return await self._research()

    @rx.event
    async def load_more(self):
        if not self.cursor:
            return
        self.loading_more = True
        yield
        try:
            page = await self._search(await self._actor(), self.cursor)
        except Exception as exc:
            self.loading_more = False
            for spec in self._fail(exc):
                yield spec
            return
        seen = {r.id for r in self.items}
        self.items = [
            *self.items,
            *(alert_row(a, self._names) for a in page.items if a.id not in seen),
        ]
        self.cursor = page.next_cursor or ""
        self.loading_more = False

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        del event  # the event names a delivery; re-read the newest page of the current search
        page = await self._search(actor, None)
        missing = {a.service_id for a in page.items} - self._names.keys()
        if missing:
            self._names = {s.id: s.name for s in await call(catalog.list_services, actor)}
        newest = [alert_row(a, self._names) for a in page.items]
        top = self.items[0].id if self.items else 0
        if not self.items or (page.next_cursor and newest and newest[-1].id > top):
            # First rows, or more arrived than one page: start over from the newest page so
            # "Load more" continues without a gap.
            self.items = [r.model_copy(update={"fresh": True}) for r in newest if r.id > top]
            self.cursor = page.next_cursor or ""
            return ""
        merged = merge_live(self.items, newest)
        if len(merged) == MAX_ROWS and merged[-1].id != self.items[-1].id:
            self.cursor = encode_cursor(merged[-1].id)  # older rows dropped: continue below
        self.items = merged
        return ""
