"""Overrides, swaps and the schedule's calendar feeds on the schedule page, as a state mixin.

The host state (``ScheduleDetailState``) fills the rows in when it reads the page and provides
``_run`` (a command as the freshly resolved actor, then a re-read), ``_failed`` and
``_viewer_zone``; the services authorize every command again.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.core.errors import Conflict, ValidationFailed
from backend.core.validation import parse
from backend.schedules import feeds, overrides
from backend.schedules.overrides import SwapDecision
from backend.schedules.schemas import OverrideCreate, SwapCreate
from oncall_app import errors
from oncall_app.state.schedule_rows import OverrideRow, SwapRow, local_instant
from oncall_app.state.schedules import FeedRow, feed_url
from oncall_app.state.schedules_view import ShiftLine

DONE = {"accept": "accepted", "decline": "declined", "cancel": "cancelled", "force": "forced"}


class ScheduleActionsMixin(rx.State, mixin=True):
    override_rows: list[OverrideRow] = []
    override_errors: dict[str, str] = {}
    my_upcoming: list[ShiftLine] = []
    swap_rows: list[SwapRow] = []
    swap_index: int = -1
    swap_errors: dict[str, str] = {}
    feeds: list[FeedRow] = []
    new_feed_url: str = ""

    # ---- provided by the host state ------------------------------------------------------
    async def _run(self, fn: Any, *args: Any, scoped: bool = True) -> Any:
        raise NotImplementedError

    async def _command(self, fn: Any, *args: Any, done: str = "") -> tuple[bool, list[Any]]:
        raise NotImplementedError

    def _failed(self, exc: Exception) -> list[Any]:
        raise NotImplementedError

    def _viewer_zone(self) -> str:
        raise NotImplementedError

    # ---- overrides -----------------------------------------------------------------------
    @rx.event
    async def add_override(self, form: dict[str, Any]):
        zone = self._viewer_zone()
        raw = {
            "user_id": form.get("user_id") or None,
            "start": local_instant(str(form.get("start", "")), zone),
            "end": local_instant(str(form.get("end", "")), zone),
            "reason": str(form.get("reason", "")),
        }
        try:
            await self._run(overrides.create_override, parse(OverrideCreate, raw))
        except ValidationFailed as exc:
            self.override_errors = errors.field_messages(exc)
            return None
        except Conflict as exc:  # overlaps another override: say so beside the form
            self.override_errors = {"form": exc.detail}
            return None
        except Exception as exc:
            return self._failed(exc)
        self.override_errors = {}
        return rx.toast.success("Override added")

    @rx.event
    async def delete_override(self, override_id: int):
        done = "Override removed"
        return (await self._command(overrides.delete_override, int(override_id), done=done))[1]

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
            await self._run(overrides.request_swap, parse(SwapCreate, raw))
        except ValidationFailed as exc:
            self.swap_errors = errors.field_messages(exc)
            return None
        except Exception as exc:
            return self._failed(exc)
        self.swap_errors = {}
        self.swap_index = -1
        return rx.toast.success("Swap requested")

    @rx.event
    async def decide_swap(self, swap_id: int, decision: str):
        verdict = SwapDecision(decision)
        done = f"Swap {DONE[verdict.value]}"
        return (await self._command(overrides.decide_swap, int(swap_id), verdict, done=done))[1]

    # ---- feeds ---------------------------------------------------------------------------
    @rx.event
    async def create_feed(self):
        try:
            created = await self._run(feeds.create_feed)
        except Exception as exc:
            return self._failed(exc)
        self.new_feed_url = feed_url(created)
        return rx.toast.success("Calendar feed created: copy the URL now, it is shown once")

    @rx.event
    async def revoke_feed(self, feed_id: int):
        try:
            await self._run(feeds.revoke_feed, int(feed_id), scoped=False)
        except Exception as exc:
            return self._failed(exc)
        self.new_feed_url = ""
        return rx.toast.success("Calendar feed revoked")

    @rx.event
    def hide_feed_url(self):
        self.new_feed_url = ""
