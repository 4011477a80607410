"""The incident dashboard (INC-03): filters, saved presets, cursor pages with "Load more", live
metrics for a chosen window, bulk acknowledge/resolve with a result per incident, optimistic
acknowledge, and live updates on topic ``incidents`` with "alice@x acknowledged #123" toasts.

Row and chart models carry display-ready values so the page stays a pure function of state.
The helpers above the state class are pure and unit-tested.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import reflex as rx
from pydantic import BaseModel

from backend.catalog import service as catalog
from backend.core import clock
from backend.core.actor import Actor
from backend.core.errors import DomainError, ValidationFailed
from backend.core.events import DomainEvent
from backend.escalation.engine import ENGINE_LABEL
from backend.incidents import metrics, presets, queries
from backend.incidents import service as incidents
from backend.incidents.models import IncidentStatus, Severity
from backend.incidents.schemas import (
    BulkIn,
    BulkResult,
    IncidentFilter,
    IncidentMetrics,
    IncidentSummary,
    PresetIn,
    PresetOut,
)
from backend.teams import service as teams
from oncall_app import live_reads
from oncall_app.services import call
from oncall_app.state.integrations import Choice
from oncall_app.state.session import SessionState

PAGE_SIZE = 50
MAX_RELOAD = 200  # a live refresh re-reads at most this many rows (the service's page limit)
SEVERITIES = [s.value for s in Severity]
STATUSES = [s.value for s in IncidentStatus]
ACTIVE = "active"  # the status filter "open or acknowledged"
STATUS_LABELS = {
    "": "Any status",
    ACTIVE: "Open or acknowledged",
    "OPEN": "Open",
    "ACKNOWLEDGED": "Acknowledged",
    "RESOLVED": "Resolved",
    "CLOSED": "Closed",
}
# Opened within… ("" = any time)
SINCE: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
SINCE_LABELS = {
    "": "Any time",
    "1h": "Last hour",
    "24h": "Last 24 h",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
}
# Metrics windows: (length, bucket).
WINDOWS: dict[str, tuple[timedelta, timedelta]] = {
    "24h": (timedelta(hours=24), timedelta(hours=1)),
    "7d": (timedelta(days=7), timedelta(hours=6)),
    "30d": (timedelta(days=30), timedelta(days=1)),
}
WINDOW_LABELS = {"24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days"}

_VERBS = {
    "incidents.incident.opened": "opened",
    "incidents.incident.acknowledged": "acknowledged",
    "incidents.incident.resolved": "resolved",
    "incidents.incident.closed": "closed",
    "incidents.incident.reopened": "reopened",
    "incidents.incident.reassigned": "reassigned",
    "incidents.incident.updated": "edited",
    "incidents.incident.note_added": "added a note to",
    "incidents.incident.escalated": "escalated",
    "incidents.incident.escalation_exhausted": "ran out of escalation levels for",
}


class IncidentRow(BaseModel):
    id: int
    title: str
    status: str
    severity: str
    priority: str
    service_id: int
    service_name: str
    team_name: str
    assignee_name: str
    alert_count: int
    opened_at: str
    escalation: str  # "level 2 at 14:05" style hint, "" when not escalating
    in_maintenance: bool
    pending: bool = False  # an optimistic change waits for the service


class ChartPoint(BaseModel):
    label: str
    opened: int
    acknowledged: int
    resolved: int
    mtta_min: float | None
    mttr_min: float | None


class BulkRow(BaseModel):
    incident_id: int
    ok: bool
    text: str


def describe(event: DomainEvent) -> str:
    """ "alice@x acknowledged #123 Disk full": the toast other browsers see."""
    verb = _VERBS.get(event.name)
    incident_id = event.payload.get("incident_id")
    if verb is None or not incident_id:
        return ""
    who = event.actor_label or "Someone"
    title = str(event.payload.get("title") or "")
    if who == ENGINE_LABEL:  # the escalation engine, not a person
        text = f"#{incident_id} escalated" if verb == "escalated" else f"#{incident_id}: {verb}"
        if verb == "ran out of escalation levels for":
            text = f"#{incident_id} ran out of escalation levels"
    else:
        text = f"{who} {verb} #{incident_id}"
    return f"{text} {title}" if title else text


def row_of(item: IncidentSummary) -> IncidentRow:
    escalation = ""
    if item.escalation_level is not None and item.next_escalation_at is not None:
        escalation = f"level {item.escalation_level} due {item.next_escalation_at.isoformat()}"
    return IncidentRow(
        id=item.id,
        title=item.title,
        status=item.status.value,
        severity=item.severity.value,
        priority=item.priority.value if item.priority else "",
        service_id=item.service_id,
        service_name=item.service_name,
        team_name=item.team_name,
        assignee_name=item.assignee_name,
        alert_count=item.alert_count,
        opened_at=item.opened_at.isoformat(),
        escalation=escalation,
        in_maintenance=item.in_maintenance,
    )


def _int(raw: Any) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() else None


def build_filter(
    *, status: str, severity: str, service: str, team: str, mine: bool, since: str, now: datetime
) -> IncidentFilter:
    """The list filter from the page's select values (unknown values are ignored)."""
    if status == ACTIVE:
        statuses = [IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED]
    elif status in STATUSES:
        statuses = [IncidentStatus(status)]
    else:
        statuses = []
    service_id, team_id = _int(service), _int(team)
    delta = SINCE.get(since)
    return IncidentFilter(
        statuses=statuses,
        severities=[Severity(severity)] if severity in SEVERITIES else [],
        service_ids=[service_id] if service_id else [],
        team_ids=[team_id] if team_id else [],
        assigned_to_me=mine,
        opened_after=now - delta if delta else None,
    )


def filter_values(flt: IncidentFilter) -> dict[str, Any]:
    """The page's select values for a saved filter (the inverse of :func:`build_filter`)."""
    statuses = {s.value for s in flt.statuses}
    if statuses == {"OPEN", "ACKNOWLEDGED"}:
        status = ACTIVE
    elif len(statuses) == 1:
        status = next(iter(statuses))
    else:
        status = ""
    return {
        "status": status,
        "severity": flt.severities[0].value if len(flt.severities) == 1 else "",
        "service": str(flt.service_ids[0]) if len(flt.service_ids) == 1 else "",
        "team": str(flt.team_ids[0]) if len(flt.team_ids) == 1 else "",
        "mine": flt.assigned_to_me,
    }


def preset_filter(flt: IncidentFilter) -> IncidentFilter:
    """What a preset stores: the filter without its time bounds. A saved "last 24 h" would
    otherwise mean the day it was saved; the page's time window stays as the user set it."""
    return flt.model_copy(update={"opened_after": None, "opened_before": None})


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def duration_text(seconds: float | None) -> str:
    """ "4 min", "2 h 5 min", "1 d 3 h" or "—"."""
    if seconds is None:
        return "—"
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    mins = total // 60
    if mins < 60:
        return f"{mins} min"
    hours, mins = divmod(mins, 60)
    if hours < 24:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def chart_points(data: IncidentMetrics, window: str) -> list[ChartPoint]:
    fmt = "%H:%M" if window == "24h" else "%b %d %H:%M" if window == "7d" else "%b %d"
    return [
        ChartPoint(
            label=p.start.strftime(fmt),
            opened=p.opened,
            acknowledged=p.acknowledged,
            resolved=p.resolved,
            mtta_min=minutes(p.mtta_seconds),
            mttr_min=minutes(p.mttr_seconds),
        )
        for p in data.series
    ]


def bulk_rows(result: BulkResult) -> list[BulkRow]:
    return [
        BulkRow(
            incident_id=item.incident_id,
            ok=item.ok,
            text=(
                f"now {item.status.value.lower()}"
                if item.ok and item.status
                else (item.error_detail or item.error_code or "failed")
            ),
        )
        for item in result.items
    ]


def flip(
    rows: list[IncidentRow], incident_id: int, status: str, *, pending: bool
) -> list[IncidentRow]:
    return [
        r.model_copy(update={"status": status, "pending": pending}) if r.id == incident_id else r
        for r in rows
    ]


def _rows_page(actor: Actor, flt: IncidentFilter, limit: int) -> tuple[list[IncidentRow], str]:
    """The dashboard's rows (built once per live event for every tab with this view)."""
    page = queries.list_incidents(actor, flt, limit=limit)
    return [row_of(i) for i in page.items], page.next_cursor or ""


def _metrics_view(
    actor: Actor, start: datetime, end: datetime, bucket_seconds: int, window: str
) -> dict[str, Any]:
    """The metric vars of the dashboard, by state var name."""
    data = metrics.incident_metrics(actor, start, end, bucket_seconds=bucket_seconds)
    return {
        "open_now": data.open_now,
        "unacknowledged_now": data.unacknowledged_now,
        "opened_in_window": data.opened,
        "mtta": duration_text(data.mtta_seconds),
        "mttr": duration_text(data.mttr_seconds),
        "chart": [p.model_dump() for p in chart_points(data, window)],
    }


class IncidentsState(SessionState):
    items: list[IncidentRow] = []
    # When the rows / metrics shown were read (wall ns): an older live read is not applied.
    _rows_read_at: int = 0
    _metrics_read_at: int = 0
    cursor: str = ""
    loaded: bool = False
    loading_more: bool = False
    services: list[Choice] = []
    teams: list[Choice] = []
    status_filter: str = ACTIVE
    severity_filter: str = ""
    service_filter: str = ""
    team_filter: str = ""
    since_filter: str = ""
    mine: bool = False
    presets: list[Choice] = []
    preset_name: str = ""
    # metrics
    window: str = "24h"
    open_now: int = 0
    unacknowledged_now: int = 0
    opened_in_window: int = 0
    mtta: str = "—"
    mttr: str = "—"
    chart: list[dict[str, Any]] = []
    # bulk
    selected: list[int] = []
    bulk_busy: bool = False
    bulk_results: list[BulkRow] = []
    _preset_filters: dict[int, dict[str, Any]] = {}

    @rx.var
    def filtered(self) -> bool:
        return any(
            (
                self.status_filter,
                self.severity_filter,
                self.service_filter,
                self.team_filter,
                self.since_filter,
                self.mine,
            )
        )

    @rx.var
    def all_selected(self) -> bool:
        return bool(self.items) and len(self.selected) == len(self.items)

    def _filter(self) -> IncidentFilter:
        return build_filter(
            status=self.status_filter,
            severity=self.severity_filter,
            service=self.service_filter,
            team=self.team_filter,
            mine=self.mine,
            since=self.since_filter,
            now=clock.now(),
        )

    # ---- loading ---------------------------------------------------------------------
    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._watch(IncidentsState, ("incidents",))
        # The selection is kept (pruned to the rows shown by _first_page): on_load runs again
        # when the websocket reconnects, and a busy responder's ticks must not vanish with it.
        self.bulk_results = []
        try:
            actor = await self._actor()
            services = await call(catalog.list_services, actor)
            self.services = [Choice(id=str(s.id), name=s.name) for s in services]
            team_rows = await call(teams.list_teams, actor)
            self.teams = [Choice(id=str(t.id), name=t.name) for t in team_rows]
            await self._load_presets(actor)
            await self._first_page(actor)
            await self._metrics(actor)
        except Exception as exc:
            return self._fail(exc)
        return None

    def _view_key(self, actor: Actor) -> tuple[Any, ...]:
        """Everything the list depends on: tabs with equal keys share one live re-read."""
        return (
            self.status_filter,
            self.severity_filter,
            self.service_filter,
            self.team_filter,
            self.since_filter,
            actor.user_id if self.mine else None,
        )

    async def _first_page(self, actor: Actor, limit: int = PAGE_SIZE) -> None:
        read_at, (rows, cursor) = await live_reads.stamped(
            ("incidents.list", self._view_key(actor), limit),
            _rows_page,
            actor,
            self._filter(),
            limit,
        )
        if read_at < self._rows_read_at:
            return  # another event's newer read is already shown
        self._rows_read_at = read_at
        # Assign only what changed: Reflex sends every assigned var to the browser again, and
        # a live refresh runs for every open dashboard.
        if rows != self.items:
            self.items = rows
        if cursor != self.cursor:
            self.cursor = cursor
        shown = {r.id for r in rows}
        if any(i not in shown for i in self.selected):
            self.selected = [i for i in self.selected if i in shown]
        if not self.loaded:
            self.loaded = True

    async def _metrics(self, actor: Actor) -> None:
        length, bucket = WINDOWS.get(self.window, WINDOWS["24h"])
        end = clock.now() + timedelta(microseconds=1)
        read_at, view = await live_reads.stamped(
            ("incidents.metrics", self.window),
            _metrics_view,
            actor,
            end - length,
            end,
            int(bucket.total_seconds()),
            self.window,
        )
        if read_at < self._metrics_read_at:
            return
        self._metrics_read_at = read_at
        for name, value in view.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    async def _load_presets(self, actor: Actor) -> None:
        rows: list[PresetOut] = await call(presets.list_presets, actor)
        self.presets = [Choice(id=str(p.id), name=p.name) for p in rows]
        self._preset_filters = {p.id: p.filters.model_dump(mode="json") for p in rows}

    async def _research(self):
        try:
            await self._first_page(await self._actor())
        except Exception as exc:
            return self._fail(exc)
        return None

    @rx.event
    async def set_filter(self, name: str, value: str):
        if name not in ("status", "severity", "service", "team", "since"):
            return None
        setattr(self, f"{name}_filter", str(value or ""))
        self.bulk_results = []
        return await self._research()

    @rx.event
    async def set_mine(self, value: bool):
        self.mine = bool(value)
        return await self._research()

    @rx.event
    async def clear_filters(self):
        self.status_filter = self.severity_filter = self.service_filter = ""
        self.team_filter = self.since_filter = ""
        self.mine = False
        return await self._research()

    @rx.event
    async def set_window(self, value: str):
        self.window = value if value in WINDOWS else "24h"
        try:
            await self._metrics(await self._actor())
        except Exception as exc:
            return self._fail(exc)
        return None

    @rx.event
    async def load_more(self):
        if not self.cursor:
            return
        self.loading_more = True
        yield
        try:
            page = await call(
                queries.list_incidents,
                await self._actor(),
                self._filter(),
                cursor=self.cursor,
                limit=PAGE_SIZE,
            )
        except Exception as exc:
            self.loading_more = False
            for spec in self._fail(exc):
                yield spec
            return
        seen = {r.id for r in self.items}
        self.items = [*self.items, *(row_of(i) for i in page.items if i.id not in seen)]
        self.cursor = page.next_cursor or ""
        self.loading_more = False

    # ---- presets ---------------------------------------------------------------------
    @rx.event
    def set_preset_name(self, value: str):
        self.preset_name = value[:80]

    @rx.event
    async def save_preset(self):
        name = self.preset_name.strip()
        if not name:
            return rx.toast.error("Name the filter first")
        try:
            actor = await self._actor()
            data = PresetIn(name=name, filters=preset_filter(self._filter()))
            await call(presets.save_preset, actor, data)
            await self._load_presets(actor)
        except ValidationFailed as exc:
            return rx.toast.error(exc.title, description=exc.detail)
        except Exception as exc:
            return self._fail(exc)
        self.preset_name = ""
        return rx.toast.success(f"Filter '{name}' saved")

    @rx.event
    async def apply_preset(self, preset_id: str):
        raw = self._preset_filters.get(_int(preset_id) or 0)
        if raw is None:
            return None
        flt = IncidentFilter.model_validate(raw)
        values = filter_values(flt)
        self.status_filter = values["status"]
        self.severity_filter = values["severity"]
        self.service_filter = values["service"]
        self.team_filter = values["team"]
        self.mine = values["mine"]
        return await self._research()

    @rx.event
    async def delete_preset(self, preset_id: str):
        ident = _int(preset_id)
        if not ident:
            return None
        try:
            actor = await self._actor()
            await call(presets.delete_preset, actor, ident)
            await self._load_presets(actor)
        except Exception as exc:
            return self._fail(exc)
        return rx.toast.success("Saved filter deleted")

    # ---- selection and bulk ----------------------------------------------------------
    @rx.event
    def toggle_selected(self, incident_id: int):
        if incident_id in self.selected:
            self.selected = [i for i in self.selected if i != incident_id]
        else:
            self.selected = [*self.selected, incident_id]

    @rx.event
    def toggle_all(self):
        self.selected = [] if self.all_selected else [r.id for r in self.items]

    @rx.event
    async def bulk(self, action: str):
        if action not in ("acknowledge", "resolve") or not self.selected:
            return
        self.bulk_busy = True
        self.bulk_results = []
        yield
        try:
            actor = await self._actor()
            result = await call(
                incidents.bulk, actor, BulkIn(action=action, incident_ids=self.selected[:100])
            )
            self.bulk_results = bulk_rows(result)
            self.selected = [r.incident_id for r in result.items if not r.ok]
            await self._refresh(actor)
        except Exception as exc:
            self.bulk_busy = False
            for spec in self._fail(exc):
                yield spec
            return
        self.bulk_busy = False
        verb = "acknowledged" if action == "acknowledge" else "resolved"
        if result.failed:
            yield rx.toast.warning(f"{result.succeeded} {verb}, {result.failed} failed")
        else:
            yield rx.toast.success(f"{result.succeeded} {verb}")

    @rx.event
    def dismiss_bulk(self):
        self.bulk_results = []

    # ---- single-row actions ----------------------------------------------------------
    @rx.event
    async def acknowledge(self, incident_id: int):
        """Optimistic: the row shows ACKNOWLEDGED at once and rolls back if refused."""
        before = next((r.status for r in self.items if r.id == incident_id), None)
        if before is None:
            return
        self.items = flip(self.items, incident_id, IncidentStatus.ACKNOWLEDGED.value, pending=True)
        yield
        try:
            await call(incidents.acknowledge, await self._actor(), incident_id)
        except Exception as exc:
            self.items = flip(self.items, incident_id, before, pending=False)
            if isinstance(exc, DomainError):
                yield rx.toast.error(f"#{incident_id} not acknowledged", description=exc.detail)
            else:
                for spec in self._fail(exc):
                    yield spec
            return
        self.items = flip(self.items, incident_id, IncidentStatus.ACKNOWLEDGED.value, pending=False)
        yield rx.toast.success(f"#{incident_id} acknowledged")

    @rx.event
    async def resolve(self, incident_id: int):
        before = next((r.status for r in self.items if r.id == incident_id), None)
        if before is None:
            return
        self.items = flip(self.items, incident_id, IncidentStatus.RESOLVED.value, pending=True)
        yield
        try:
            await call(incidents.resolve, await self._actor(), incident_id)
        except Exception as exc:
            self.items = flip(self.items, incident_id, before, pending=False)
            if isinstance(exc, DomainError):
                yield rx.toast.error(f"#{incident_id} not resolved", description=exc.detail)
            else:
                for spec in self._fail(exc):
                    yield spec
            return
        self.items = flip(self.items, incident_id, IncidentStatus.RESOLVED.value, pending=False)
        yield rx.toast.success(f"#{incident_id} resolved")

    # ---- live ------------------------------------------------------------------------
    async def _refresh(self, actor: Actor) -> None:
        await self._first_page(actor, min(max(len(self.items), PAGE_SIZE), MAX_RELOAD))
        await self._metrics(actor)

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        if not event.name.startswith("incidents."):
            return ""
        await self._refresh(actor)
        return describe(event)
