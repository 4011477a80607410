"""/schedules/[schedule_id]: the timeline (1 or 2 weeks, viewer's zone), the schedule's own
settings (name, zone, description), layers and their editor (``schedule_editor``), overrides,
swaps and calendar feeds (``schedule_actions``).

Buttons appear only when the team role allows them; every command resolves the session again
and the services authorize again, so a stale page can never do more than its user may.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import reflex as rx

from backend.core.actor import Actor
from backend.core.errors import Conflict, ValidationFailed
from backend.core.events import DomainEvent
from backend.core.validation import parse
from backend.schedules import service as schedules
from backend.schedules.schemas import LayerOut, OverrideOut, ScheduleUpdate, SwapOut
from oncall_app import errors
from oncall_app.services import call
from oncall_app.state.schedule_actions import ScheduleActionsMixin
from oncall_app.state.schedule_editor import EditorContext, LayerEditorMixin
from oncall_app.state.schedule_rows import (
    IN_FORCE,
    LayerCard,
    Loaded,
    layer_card,
    load_page,
    override_row,
    swap_row,
)
from oncall_app.state.schedules_view import Row, ShiftLine, Tick, fmt, rows_of, shift_lines, zone
from oncall_app.state.schedules_view import ticks as ticks_of
from oncall_app.state.services import TeamChoice
from oncall_app.state.session import SessionState


class ScheduleDetailState(LayerEditorMixin, ScheduleActionsMixin, SessionState):
    found: bool = False
    loaded: bool = False
    name: str = ""
    description: str = ""
    team_id: int = 0
    team_name: str = ""
    time_zone: str = "UTC"
    viewer_zone: str = "UTC"
    can_edit: bool = False
    can_respond: bool = False
    editing: bool = False
    edit_errors: dict[str, str] = {}
    days: int = 7
    day: str = ""
    window_label: str = ""
    rows: list[Row] = []
    ticks: list[Tick] = []
    final_lines: list[ShiftLine] = []
    now_name: str = ""
    now_until: str = ""
    layer_cards: list[LayerCard] = []
    members: list[TeamChoice] = []
    _schedule_id: int = 0
    _layers: list[LayerOut] = []
    _overrides: list[OverrideOut] = []
    _swaps: list[SwapOut] = []
    _names: dict[int, str] = {}
    _start: str = ""
    _end: str = ""

    @rx.var
    def heading(self) -> str:
        return self.name if self.found and self.name else "Schedule"

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._schedule_id = self._route_id()
        self.loaded = False
        self.day = ""
        self.new_feed_url = ""
        self.swap_index = -1
        self.override_errors = {}
        self.editor_open = False
        self.editing = False
        self._watch(ScheduleDetailState, (f"schedule:{self._schedule_id}",))
        return await self._refresh()

    async def _refresh(self) -> list[Any] | None:
        try:
            await self._reload(await self._actor())
        except Exception as exc:
            self.loaded = True
            return self._fail(exc)
        return None

    async def _reload(self, actor: Actor) -> None:
        day = date.fromisoformat(self.day) if self.day else None
        loaded = await call(load_page, actor, self._schedule_id, day, self.days)
        self._show(loaded)

    def _show(self, loaded: Loaded) -> None:
        d, tl, me = loaded.detail, loaded.timeline, self.user_id
        self.found = self.loaded = True
        self.name, self.description, self.time_zone = d.name, d.description, d.time_zone
        self.team_id, self.team_name = d.team_id, loaded.team_name
        self.viewer_zone = loaded.viewer_zone
        self.can_edit, self.can_respond = loaded.can_edit, loaded.can_respond
        self.day = loaded.day.isoformat()
        self._start, self._end = tl.start.isoformat(), tl.end.isoformat()
        tz = zone(loaded.viewer_zone)
        self.window_label = f"{fmt(tl.start, tz)} → {fmt(tl.end, tz)} ({loaded.viewer_zone})"
        self.rows = rows_of(tl, loaded.viewer_zone)
        self.ticks = ticks_of(tl.start, tl.end, loaded.viewer_zone)
        self.final_lines = shift_lines(tl.final, loaded.viewer_zone, d.time_zone, me, loaded.now)
        self.my_upcoming = [x for x in self.final_lines if x.mine and x.upcoming]
        current = next((s for s in tl.final if s.start <= loaded.now < s.end), None)
        self.now_name = current.user_name if current else ""
        self.now_until = fmt(current.end, tz) if current else ""
        self._layers, self._overrides = d.layers, loaded.overrides
        self._swaps = [s for s in loaded.swaps if s.status in IN_FORCE]
        self._names = loaded.names
        self.layer_cards = [layer_card(x, loaded.names) for x in d.layers]
        self.members = loaded.members
        self.override_rows = [override_row(o, loaded, me) for o in loaded.overrides]
        self.swap_rows = [swap_row(s, loaded, me) for s in loaded.swaps]
        self.feeds = loaded.feeds
        self._editor_context_changed()

    def _editor_context(self) -> EditorContext:
        return EditorContext(
            schedule_id=self._schedule_id,
            time_zone=self.time_zone,
            viewer_zone=self.viewer_zone,
            layers=self._layers,
            overrides=self._overrides,
            swaps=self._swaps,
            names=self._names,
            start=datetime.fromisoformat(self._start),
            end=datetime.fromisoformat(self._end),
        )

    # ---- what the mixins need ------------------------------------------------------------
    async def _run(self, fn: Any, *args: Any, scoped: bool = True) -> Any:
        """``fn(actor, schedule_id, *args)`` (``fn(actor, *args)`` unless ``scoped``) as the
        freshly resolved actor, then re-read the page; raises what ``fn`` raises."""
        actor = await self._actor()
        head = (self._schedule_id,) if scoped else ()
        result = await call(fn, actor, *head, *args)
        await self._reload(actor)
        return result

    async def _command(self, fn: Any, *args: Any, done: str = "") -> tuple[bool, list[Any]]:
        """Run a schedule command, then re-read the page; failures become toasts."""
        try:
            await self._run(fn, *args)
        except Exception as exc:
            return False, self._fail(exc)
        return True, [rx.toast.success(done)] if done else []

    def _failed(self, exc: Exception) -> list[Any]:
        return self._fail(exc)

    def _viewer_zone(self) -> str:
        return self.viewer_zone

    # ---- the window ----------------------------------------------------------------------
    @rx.event
    async def set_days(self, days: str | list[str]):
        self.days = 14 if str(days) == "14" else 7
        return await self._refresh()

    @rx.event
    async def shift_window(self, direction: int):
        current = date.fromisoformat(self.day) if self.day else None
        if current is not None:
            self.day = (current + timedelta(days=self.days * int(direction))).isoformat()
        return await self._refresh()

    @rx.event
    async def today(self):
        self.day = ""
        return await self._refresh()

    # ---- the schedule itself -------------------------------------------------------------
    @rx.event
    def toggle_edit(self):
        self.editing = not self.editing
        self.edit_errors = {}

    @rx.event
    async def save(self, form: dict[str, Any]):
        """Rename the schedule, change its zone or its description."""
        raw = {k: str(form.get(k, "")) for k in ("name", "time_zone", "description")}
        try:
            await self._run(schedules.update_schedule, parse(ScheduleUpdate, raw))
        except ValidationFailed as exc:
            self.edit_errors = errors.field_messages(exc)
            return None
        except Conflict as exc:  # another schedule of the team has that name
            self.edit_errors = {"name": exc.detail}
            return None
        except Exception as exc:
            return self._fail(exc)
        self.editing = False
        self.edit_errors = {}
        return rx.toast.success("Schedule saved")

    @rx.event
    async def delete(self):
        try:
            actor = await self._actor()
            await call(schedules.delete_schedule, actor, self._schedule_id)
        except Exception as exc:
            return self._fail(exc)
        return [rx.toast.success(f"Schedule {self.name} deleted"), rx.redirect("/schedules")]

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        if event.name == "schedules.schedule.deleted":
            self.found = False
        else:
            await self._reload(actor)
        who = event.actor_label or "Someone"
        what = event.name.removeprefix("schedules.").replace(".", " ")
        return f"{who}: {what} in {self.name}"
