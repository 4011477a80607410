"""Heartbeat monitors and maintenance windows on a service's page (ALERT-03, ALERT-04).

A second state on ``/services/[id]`` beside ``ServiceDetailState``: it reads and changes only
these two lists, re-reading them after its own commands. It does not register for live
updates (the page's live topic belongs to the detail state); the services authorize every
read and command again, so what a member may not do fails there, not only in the UI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx
from pydantic import BaseModel

from backend.core.actor import Actor
from backend.core.errors import ValidationFailed
from backend.core.validation import parse
from backend.identity import service as identity
from backend.ingest import heartbeats, maintenance
from backend.ingest.schemas import (
    HeartbeatCreate,
    HeartbeatOut,
    MaintenanceWindowCreate,
    MaintenanceWindowOut,
)
from oncall_app import errors
from oncall_app.services import call
from oncall_app.state.schedule_rows import local_instant
from oncall_app.state.schedules_view import fmt, zone
from oncall_app.state.session import SessionState


class HeartbeatRow(BaseModel):
    id: int
    name: str
    every: str
    status: str
    last: str
    due: str


class WindowRow(BaseModel):
    id: int
    when: str
    reason: str
    created_by: str
    active: bool


def every(seconds: int) -> str:
    """``300`` → ``5 min``: the interval as people say it."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def heartbeat_row(row: HeartbeatOut, viewer_zone: str) -> HeartbeatRow:
    tz = zone(viewer_zone)
    return HeartbeatRow(
        id=row.id,
        name=row.name,
        every=f"every {every(row.interval_seconds)} (+{every(row.grace_seconds)} grace)",
        status=row.status.value,
        last=fmt(row.last_check_in_at, tz) if row.last_check_in_at else "never",
        due=fmt(row.due_at, tz) if row.due_at else "",
    )


def window_row(row: MaintenanceWindowOut, viewer_zone: str, now: datetime) -> WindowRow:
    tz = zone(viewer_zone)
    return WindowRow(
        id=row.id,
        when=f"{fmt(row.starts_at, tz)} → {fmt(row.ends_at, tz)}",
        reason=row.reason,
        created_by=row.created_by,
        active=row.starts_at <= now < row.ends_at,
    )


def _load(
    actor: Actor, service_id: int
) -> tuple[list[HeartbeatOut], list[MaintenanceWindowOut], str]:
    assert actor.user_id is not None
    viewer_zone = identity.get_user(actor, actor.user_id).time_zone
    monitors = heartbeats.list_monitors(actor, service_id)
    return monitors, maintenance.list_windows(actor, service_id), viewer_zone


class ServiceOpsState(SessionState):
    heartbeat_rows: list[HeartbeatRow] = []
    window_rows: list[WindowRow] = []
    viewer_zone: str = "UTC"
    heartbeat_errors: dict[str, str] = {}
    window_errors: dict[str, str] = {}
    # The check-in URL of the monitor just created: shown once, forgotten on "Done".
    new_check_in_url: str = ""
    ops_loaded: bool = False
    _service_id: int = 0

    @rx.event
    async def load(self):
        if not self.authenticated:
            return
        self._service_id = self._route_id()
        self.ops_loaded = False
        self.new_check_in_url = ""
        self.heartbeat_errors, self.window_errors = {}, {}
        self.heartbeat_rows, self.window_rows = [], []
        try:
            await self._reload(await self._actor())
        except Exception:  # reported once, by the detail state's own load
            self.ops_loaded = False

    async def _reload(self, actor: Actor) -> None:
        monitors, windows, viewer_zone = await call(_load, actor, self._service_id)
        now = datetime.now().astimezone()
        self.viewer_zone = viewer_zone
        self.heartbeat_rows = [heartbeat_row(m, viewer_zone) for m in monitors]
        self.window_rows = [window_row(w, viewer_zone, now) for w in windows]
        self.ops_loaded = True

    async def _run(self, fn: Any, *args: Any) -> Any:
        actor = await self._actor()
        result = await call(fn, actor, *args)
        await self._reload(actor)
        return result

    # ---- heartbeats ----------------------------------------------------------------------
    @rx.event
    async def add_heartbeat(self, form: dict[str, Any]):
        raw = {
            "name": str(form.get("name", "")),
            "service_id": self._service_id,
            "interval_seconds": _minutes(form.get("interval_minutes"), 5),
            "grace_seconds": _minutes(form.get("grace_minutes"), 1),
        }
        try:
            data = parse(HeartbeatCreate, raw)
            created = await self._run(heartbeats.create_monitor, data)
        except ValidationFailed as exc:
            self.heartbeat_errors = _minute_fields(errors.field_messages(exc))
            return None
        except Exception as exc:
            return self._fail(exc)
        self.heartbeat_errors = {}
        self.new_check_in_url = created.check_in_url
        return rx.toast.success(f"Heartbeat {created.monitor.name} created")

    @rx.event
    def hide_check_in_url(self):
        self.new_check_in_url = ""

    @rx.event
    async def delete_heartbeat(self, monitor_id: int):
        try:
            await self._run(heartbeats.delete_monitor, int(monitor_id))
        except Exception as exc:
            return self._fail(exc)
        return rx.toast.success("Heartbeat deleted")

    # ---- maintenance windows -------------------------------------------------------------
    @rx.event
    async def add_window(self, form: dict[str, Any]):
        raw = {
            "service_id": self._service_id,
            "starts_at": local_instant(str(form.get("starts_at", "")), self.viewer_zone),
            "ends_at": local_instant(str(form.get("ends_at", "")), self.viewer_zone),
            "reason": str(form.get("reason", "")),
        }
        try:
            data = parse(MaintenanceWindowCreate, raw)
            await self._run(maintenance.create_window, data)
        except ValidationFailed as exc:
            self.window_errors = errors.field_messages(exc)
            return None
        except Exception as exc:
            return self._fail(exc)
        self.window_errors = {}
        return rx.toast.success("Maintenance window scheduled")

    @rx.event
    async def delete_window(self, window_id: int):
        try:
            await self._run(maintenance.delete_window, int(window_id))
        except Exception as exc:
            return self._fail(exc)
        return rx.toast.success("Maintenance window cancelled")


def _minutes(raw: Any, default: int) -> Any:
    """Minutes typed in the form as seconds for the schema; the raw text if it is not a
    whole number, so the schema reports it against the field."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        return default * 60
    return int(text) * 60 if text.isdigit() else text


def _minute_fields(messages: dict[str, str]) -> dict[str, str]:
    """Schema errors speak of seconds; the form asks for minutes, so say it in minutes."""
    minutes = {
        "interval_seconds": ("interval_minutes", "A whole number of minutes, 1 to 10080 (7 days)."),
        "grace_seconds": ("grace_minutes", "A whole number of minutes, 0 to 1440 (a day)."),
    }
    out: dict[str, str] = {}
    for key, text in messages.items():
        name, message = minutes.get(key, (key, text))
        out[name] = message
    return out
