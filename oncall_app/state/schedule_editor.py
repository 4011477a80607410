"""The layer editor of the schedule page, as a state mixin: a draft layer (participants in
order, daily/weekly/custom RRULE, handoff time, start date, weekday and time-of-day
restrictions) with a live preview computed by the pure rotation engine on every change.

The preview is the final schedule of the visible window as it would be with the draft saved
(the other layers, overrides and accepted swaps included); saving goes through
``schedules.add_layer``/``update_layer``, which validate and authorize again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import reflex as rx
from pydantic import BaseModel

from backend.core.errors import ValidationFailed
from backend.core.validation import parse
from backend.schedules import service as schedules
from backend.schedules.schemas import LayerCreate, LayerOut, LayerUpdate, OverrideOut, SwapOut
from oncall_app import errors
from oncall_app.state.schedules_view import (
    LayerDraft,
    RestrictionDraft,
    Row,
    draft_of,
    payload_of,
    preview,
    rows_of,
    zone,
)

TEXT_FIELDS = ("name", "priority", "kind", "interval", "custom_rule", "handoff", "starts_on")


class ParticipantRow(BaseModel):
    index: int
    user_id: int
    name: str


@dataclass(frozen=True)
class EditorContext:
    """What the host page knows that the preview needs."""

    schedule_id: int
    time_zone: str
    viewer_zone: str
    layers: list[LayerOut]
    overrides: list[OverrideOut]
    swaps: list[SwapOut]
    names: dict[int, str]
    start: datetime
    end: datetime


class LayerEditorMixin(rx.State, mixin=True):
    editor_open: bool = False
    draft: LayerDraft = LayerDraft()
    participant_rows: list[ParticipantRow] = []
    editor_errors: dict[str, str] = {}
    preview_rows: list[Row] = []
    preview_error: str = ""

    # ---- provided by the host state ------------------------------------------------------
    def _editor_context(self) -> EditorContext:
        raise NotImplementedError

    async def _command(self, fn: Any, *args: Any, done: str = "") -> tuple[bool, list[Any]]:
        raise NotImplementedError

    # ---- opening and closing -------------------------------------------------------------
    @rx.event
    def new_layer(self):
        ctx = self._editor_context()
        today = ctx.start.astimezone(zone(ctx.time_zone)).date()
        self.draft = LayerDraft(
            name=f"Layer {len(ctx.layers) + 1}",
            priority=str(max((x.priority for x in ctx.layers), default=-1) + 1),
            starts_on=today.isoformat(),
        )
        self._open()

    @rx.event
    def edit_layer(self, layer_id: int):
        layer = next((x for x in self._editor_context().layers if x.id == int(layer_id)), None)
        if layer is None:
            return rx.toast.error("That layer is gone; the page has been refreshed")
        self.draft = draft_of(layer)
        self._open()
        return None

    def _open(self) -> None:
        self.editor_open = True
        self.editor_errors = {}
        self._recompute()

    @rx.event
    def close_editor(self):
        self.editor_open = False
        self.editor_errors = {}

    def _editor_context_changed(self) -> None:
        if self.editor_open:
            self._recompute()

    # ---- editing the draft ---------------------------------------------------------------
    def _update(self, **changes: Any) -> None:
        self.draft = self.draft.model_copy(update=changes)
        self._recompute()

    @rx.event
    def set_draft_field(self, name: str, value: str):
        if name in TEXT_FIELDS:
            self._update(**{name: str(value)})

    @rx.event
    def add_participant(self, user_id: str):
        if str(user_id).isdigit():
            self._update(participants=[*self.draft.participants, int(user_id)])

    @rx.event
    def remove_participant(self, index: int):
        people = list(self.draft.participants)
        if 0 <= int(index) < len(people):
            del people[int(index)]
            self._update(participants=people)

    @rx.event
    def move_participant(self, index: int, delta: int):
        people = list(self.draft.participants)
        i, j = int(index), int(index) + int(delta)
        if 0 <= i < len(people) and 0 <= j < len(people):
            people[i], people[j] = people[j], people[i]
            self._update(participants=people)

    @rx.event
    def add_restriction(self):
        self._update(restrictions=[*self.draft.restrictions, RestrictionDraft()])

    @rx.event
    def remove_restriction(self, index: int):
        windows = list(self.draft.restrictions)
        if 0 <= int(index) < len(windows):
            del windows[int(index)]
            self._update(restrictions=windows)

    @rx.event
    def toggle_day(self, index: int, day: int):
        windows = list(self.draft.restrictions)
        if 0 <= int(index) < len(windows):
            days = set(windows[int(index)].days) ^ {int(day)}
            windows[int(index)] = windows[int(index)].model_copy(update={"days": sorted(days)})
            self._update(restrictions=windows)

    @rx.event
    def set_window(self, index: int, which: str, value: str):
        windows = list(self.draft.restrictions)
        if 0 <= int(index) < len(windows) and which in ("start", "end"):
            windows[int(index)] = windows[int(index)].model_copy(update={which: str(value)})
            self._update(restrictions=windows)

    # ---- the live preview ----------------------------------------------------------------
    def _recompute(self) -> None:
        ctx = self._editor_context()
        self.participant_rows = [
            ParticipantRow(index=i, user_id=u, name=ctx.names.get(u, f"user {u}"))
            for i, u in enumerate(self.draft.participants)
        ]
        try:
            data = parse(LayerCreate, payload_of(self.draft))
        except ValidationFailed as exc:
            messages = errors.field_messages(exc)
            self.preview_error = "; ".join(f"{k}: {v}" for k, v in sorted(messages.items()))
            self.preview_rows = []
            return
        draft = LayerOut(
            id=self.draft.layer_id or -1,
            schedule_id=ctx.schedule_id,
            **data.model_dump(exclude={"restrictions"}),
            restrictions=[w.model_dump() for w in data.restrictions],
        )
        timeline = preview(
            ctx.time_zone,
            ctx.layers,
            draft,
            ctx.overrides,
            ctx.swaps,
            ctx.start,
            ctx.end,
            ctx.names,
        )
        self.preview_error = ""
        self.preview_rows = rows_of(timeline, ctx.viewer_zone)

    # ---- saving --------------------------------------------------------------------------
    @rx.event
    async def save_layer(self):
        payload = payload_of(self.draft)
        try:
            if self.draft.layer_id:
                update = parse(LayerUpdate, payload)
                args: tuple[Any, ...] = (schedules.update_layer, self.draft.layer_id, update)
            else:
                args = (schedules.add_layer, parse(LayerCreate, payload))
        except ValidationFailed as exc:
            self.editor_errors = errors.field_messages(exc)
            return None
        ok, events = await self._command(*args, done=f"Layer {self.draft.name} saved")
        if ok:
            self.editor_open = False
            self.editor_errors = {}
        return events

    @rx.event
    async def delete_layer(self, layer_id: int):
        ok, events = await self._command(
            schedules.delete_layer, int(layer_id), done="Layer removed"
        )
        if ok and self.draft.layer_id == int(layer_id):
            self.editor_open = False
        return events
