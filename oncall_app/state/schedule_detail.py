"""/schedules/[schedule_id]: the timeline (1 or 2 weeks, viewer's zone), layers and their
editor (``schedule_editor``), overrides, swaps and the schedule's calendar feeds.

Buttons appear only when the team role allows them; every command resolves the session again
and the services authorize again, so a stale page can never do more than its user may.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import reflex as rx
from pydantic import BaseModel

from backend.core import clock
from backend.core.actor import Actor
from backend.core.errors import Conflict, ValidationFailed
from backend.core.events import DomainEvent
from backend.core.validation import parse
from backend.identity import service as identity
from backend.schedules import feeds, oncall, overrides
from backend.schedules import service as schedules
from backend.schedules.models import SwapStatus
from backend.schedules.overrides import SwapDecision
from backend.schedules.schemas import (
    LayerOut,
    OverrideCreate,
    OverrideOut,
    ScheduleDetail,
    SwapCreate,
    SwapOut,
    Timeline,
)
from backend.schedules.wallclock import to_utc
from backend.teams import service as teams
from backend.teams.models import TeamRole
from backend.teams.policy import TeamAction
from oncall_app import errors
from oncall_app.services import call
from oncall_app.state.schedule_editor import EditorContext, LayerEditorMixin
from oncall_app.state.schedules import FeedRow, feed_rows, feed_url
from oncall_app.state.schedules_view import (
    DAYS,
    Row,
    ShiftLine,
    Tick,
    fmt,
    rows_of,
    shift_lines,
    span,
    ticks,
    window,
    zone,
)
from oncall_app.state.services import TeamChoice
from oncall_app.state.session import SessionState

ROTATING = {TeamRole.RESPONDER, TeamRole.TEAM_ADMIN}
IN_FORCE = (SwapStatus.ACCEPTED, SwapStatus.FORCED)


class LayerCard(BaseModel):
    id: int
    name: str
    priority: int
    who: str
    rule: str
    handoff: str
    starts_on: str
    restrictions: str


class OverrideRow(BaseModel):
    id: int
    user_name: str
    when: str
    when_schedule: str
    reason: str
    can_delete: bool


class SwapRow(BaseModel):
    id: int
    requester: str
    counterpart: str
    when: str
    when_schedule: str
    status: str
    reason: str
    can_answer: bool
    can_cancel: bool
    can_force: bool


@dataclass
class Loaded:
    """Everything the page shows, read in one thread hop."""

    detail: ScheduleDetail
    team_name: str
    viewer_zone: str
    day: date
    timeline: Timeline
    overrides: list[OverrideOut]
    swaps: list[SwapOut]
    members: list[TeamChoice]
    names: dict[int, str]
    can_edit: bool
    can_respond: bool
    feeds: list[FeedRow]
    now: datetime = field(default_factory=clock.now)


def restrictions_text(layer: LayerOut) -> str:
    if not layer.restrictions:
        return "always"
    parts = []
    for w in layer.restrictions:
        days = ",".join(DAYS[d] for d in w.days)
        parts.append(f"{days} {w.start:%H:%M}-{w.end:%H:%M}")
    return "; ".join(parts)


def layer_card(layer: LayerOut, names: dict[int, str]) -> LayerCard:
    return LayerCard(
        id=layer.id,
        name=layer.name,
        priority=layer.priority,
        who=" → ".join(names.get(u, f"user {u}") for u in layer.participants),
        rule=layer.rrule,
        handoff=layer.handoff_time.strftime("%H:%M"),
        starts_on=layer.starts_on.isoformat(),
        restrictions=restrictions_text(layer),
    )


def swap_row(swap: SwapOut, loaded: Loaded, me: int) -> SwapRow:
    names, tz_view, tz_sched = loaded.names, loaded.viewer_zone, loaded.detail.time_zone
    pending = swap.status is SwapStatus.REQUESTED
    in_force = swap.status in (SwapStatus.REQUESTED, SwapStatus.ACCEPTED, SwapStatus.FORCED)
    future = swap.start > loaded.now
    return SwapRow(
        id=swap.id,
        requester=names.get(swap.requester_id, f"user {swap.requester_id}"),
        counterpart=names.get(swap.counterpart_id, f"user {swap.counterpart_id}"),
        when=span(swap.start, swap.end, zone(tz_view)),
        when_schedule=f"{span(swap.start, swap.end, zone(tz_sched))} ({tz_sched})",
        status=str(swap.status),
        reason=swap.reason,
        can_answer=pending and future and swap.counterpart_id == me,
        can_cancel=in_force and future and (swap.requester_id == me or loaded.can_edit),
        can_force=pending and future and loaded.can_edit,
    )


def _load(actor: Actor, schedule_id: int, day: date | None, days: int) -> Loaded:
    assert actor.user_id is not None
    detail = schedules.get_schedule(actor, schedule_id)
    viewer_zone = identity.get_user(actor, actor.user_id).time_zone
    now = clock.now()
    day = day or now.astimezone(zone(viewer_zone)).date()
    start, end = window(day, days, viewer_zone)
    team = teams.get_team(actor, detail.team_id)
    members = [
        TeamChoice(id=str(m.user_id), name=m.name) for m in team.members if m.role in ROTATING
    ]
    names = {m.user_id: m.name for m in team.members}
    return Loaded(
        detail=detail,
        team_name=team.name,
        viewer_zone=viewer_zone,
        day=day,
        timeline=oncall.timeline(actor, schedule_id, start, end),
        overrides=overrides.list_overrides(actor, schedule_id, start, end),
        swaps=overrides.list_swaps(actor, schedule_id),
        members=members,
        names=names,
        can_edit=teams.can(actor, detail.team_id, TeamAction.EDIT),
        can_respond=teams.can(actor, detail.team_id, TeamAction.RESPOND),
        feeds=feed_rows(feeds.list_feeds(actor), schedule_id, viewer_zone),
        now=now,
    )


def local_instant(raw: str, viewer_zone: str) -> datetime | str:
    """A ``datetime-local`` value read in the viewer's zone, as UTC; the raw text if unusable
    (the schema then reports it)."""
    try:
        return to_utc(datetime.fromisoformat(raw), zone(viewer_zone))
    except ValueError:
        return raw


class ScheduleDetailState(LayerEditorMixin, SessionState):
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
    days: int = 7
    day: str = ""
    window_label: str = ""
    rows: list[Row] = []
    ticks: list[Tick] = []
    final_lines: list[ShiftLine] = []
    my_upcoming: list[ShiftLine] = []
    now_name: str = ""
    now_until: str = ""
    layer_cards: list[LayerCard] = []
    members: list[TeamChoice] = []
    override_rows: list[OverrideRow] = []
    override_errors: dict[str, str] = {}
    swap_rows: list[SwapRow] = []
    swap_index: int = -1
    swap_errors: dict[str, str] = {}
    feeds: list[FeedRow] = []
    new_feed_url: str = ""
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

    def _route_schedule_id(self) -> int:
        raw = str(self.router.url.path).rstrip("/").rsplit("/", 1)[-1]
        return int(raw) if raw.isdigit() else 0

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._schedule_id = self._route_schedule_id()
        self.loaded = False
        self.day = ""
        self.new_feed_url = ""
        self.swap_index = -1
        self.override_errors = {}
        self.editor_open = False
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
        loaded = await call(_load, actor, self._schedule_id, day, self.days)
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
        self.ticks = ticks(tl.start, tl.end, loaded.viewer_zone)
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
        self.override_rows = [
            OverrideRow(
                id=o.id,
                user_name=loaded.names.get(o.user_id, f"user {o.user_id}"),
                when=span(o.start, o.end, tz),
                when_schedule=f"{span(o.start, o.end, zone(d.time_zone))} ({d.time_zone})",
                reason=o.reason,
                can_delete=loaded.can_edit or o.user_id == me,
            )
            for o in loaded.overrides
        ]
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

    async def _command(self, fn: Any, *args: Any, done: str = "") -> tuple[bool, list[Any]]:
        """Run a schedule command as the freshly resolved actor, then re-read the page."""
        try:
            actor = await self._actor()
            await call(fn, actor, self._schedule_id, *args)
            await self._reload(actor)
        except Exception as exc:
            return False, self._fail(exc)
        return True, [rx.toast.success(done)] if done else []

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

    # ---- overrides -----------------------------------------------------------------------
    @rx.event
    async def add_override(self, form: dict[str, Any]):
        raw = {
            "user_id": form.get("user_id") or None,
            "start": local_instant(str(form.get("start", "")), self.viewer_zone),
            "end": local_instant(str(form.get("end", "")), self.viewer_zone),
            "reason": str(form.get("reason", "")),
        }
        try:
            data = parse(OverrideCreate, raw)
            actor = await self._actor()
            await call(overrides.create_override, actor, self._schedule_id, data)
            await self._reload(actor)
        except ValidationFailed as exc:
            self.override_errors = errors.field_messages(exc)
            return None
        except Conflict as exc:  # overlaps another override: say so beside the form
            self.override_errors = {"form": exc.detail}
            return None
        except Exception as exc:
            return self._fail(exc)
        self.override_errors = {}
        return rx.toast.success("Override added")

    @rx.event
    async def delete_override(self, override_id: int):
        return (
            await self._command(
                overrides.delete_override, int(override_id), done="Override removed"
            )
        )[1]

    # ---- swaps ---------------------------------------------------------------------------
    @rx.event
    def pick_swap(self, index: int):
        self.swap_index = int(index)
        self.swap_errors = {}

    @rx.event
    async def request_swap(self, form: dict[str, Any]):
        if not 0 <= self.swap_index < len(self.my_upcoming):
            return rx.toast.error("Choose one of your upcoming shifts first")
        shift = self.my_upcoming[self.swap_index]
        raw = {
            "start": shift.start,
            "end": shift.end,
            "counterpart_id": form.get("counterpart_id") or None,
            "reason": str(form.get("reason", "")),
        }
        try:
            data = parse(SwapCreate, raw)
            actor = await self._actor()
            await call(overrides.request_swap, actor, self._schedule_id, data)
            await self._reload(actor)
        except ValidationFailed as exc:
            self.swap_errors = errors.field_messages(exc)
            return None
        except Exception as exc:
            return self._fail(exc)
        self.swap_errors = {}
        self.swap_index = -1
        return rx.toast.success("Swap requested")

    @rx.event
    async def decide_swap(self, swap_id: int, decision: str):
        verdict = SwapDecision(decision)
        done = {"accept": "accepted", "decline": "declined", "cancel": "cancelled"}
        return (
            await self._command(
                overrides.decide_swap,
                int(swap_id),
                verdict,
                done=f"Swap {done.get(verdict.value, 'forced')}",
            )
        )[1]

    # ---- feeds ---------------------------------------------------------------------------
    @rx.event
    async def create_feed(self):
        try:
            actor = await self._actor()
            created = await call(feeds.create_feed, actor, self._schedule_id)
            await self._reload(actor)
        except Exception as exc:
            return self._fail(exc)
        self.new_feed_url = feed_url(created)
        return rx.toast.success("Calendar feed created: copy the URL now, it is shown once")

    @rx.event
    async def revoke_feed(self, feed_id: int):
        try:
            actor = await self._actor()
            await call(feeds.revoke_feed, actor, int(feed_id))
            await self._reload(actor)
        except Exception as exc:
            return self._fail(exc)
        self.new_feed_url = ""
        return rx.toast.success("Calendar feed revoked")

    @rx.event
    def hide_feed_url(self):
        self.new_feed_url = ""

    # ---- the schedule itself -------------------------------------------------------------
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
