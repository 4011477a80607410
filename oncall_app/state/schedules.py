"""/schedules: every schedule with its team, zone and who is on call now; create; my own
calendar feed (a secret iCalendar URL shown once, revocable); live updates."""

from __future__ import annotations

from typing import Any

import reflex as rx
from pydantic import BaseModel

from backend.core.actor import Actor
from backend.core.errors import ValidationFailed
from backend.core.events import DomainEvent
from backend.core.settings import get_settings
from backend.core.validation import parse
from backend.identity import service as identity
from backend.schedules import feeds, oncall
from backend.schedules import service as schedules
from backend.schedules.schemas import FeedCreated, FeedOut, OnCallOut, ScheduleCreate, ScheduleOut
from backend.teams import service as teams
from backend.teams.policy import TeamAction
from oncall_app import errors
from oncall_app.services import call
from oncall_app.state.schedules_view import fmt, zone
from oncall_app.state.services import TeamChoice
from oncall_app.state.session import SessionState

_VERBS = {
    "schedules.schedule.created": "created",
    "schedules.schedule.updated": "updated",
    "schedules.schedule.deleted": "deleted",
}


class ScheduleRow(BaseModel):
    id: int
    name: str
    team_id: int
    team_name: str
    time_zone: str
    oncall_name: str
    oncall_until: str
    oncall_mine: bool


class FeedRow(BaseModel):
    id: int
    label: str
    created: str
    last_used: str


def feed_url(created: FeedCreated) -> str:
    return get_settings().base_url.rstrip("/") + created.path


def feed_rows(rows: list[FeedOut], schedule_id: int | None, viewer_zone: str) -> list[FeedRow]:
    """The active feeds for one schedule (or the user's own when ``schedule_id`` is None)."""
    tz = zone(viewer_zone)
    return [
        FeedRow(
            id=f.id,
            label=f"Feed #{f.id}",
            created=fmt(f.created_at, tz),
            last_used=fmt(f.last_used_at, tz) if f.last_used_at else "never",
        )
        for f in rows
        if f.revoked_at is None and f.schedule_id == schedule_id
    ]


def schedule_rows(
    items: list[ScheduleOut],
    team_names: dict[int, str],
    answers: list[OnCallOut],
    me: int,
    viewer_zone: str,
) -> list[ScheduleRow]:
    now_by_schedule = {a.schedule_id: a for a in answers}
    tz = zone(viewer_zone)
    rows = []
    for s in items:
        shift = now_by_schedule[s.id].shift if s.id in now_by_schedule else None
        rows.append(
            ScheduleRow(
                id=s.id,
                name=s.name,
                team_id=s.team_id,
                team_name=team_names.get(s.team_id, f"team {s.team_id}"),
                time_zone=s.time_zone,
                oncall_name=shift.user_name if shift else "",
                oncall_until=fmt(shift.end, tz) if shift else "",
                oncall_mine=bool(shift and shift.user_id == me),
            )
        )
    return rows


def _load(actor: Actor) -> tuple[list[ScheduleRow], list[TeamChoice], list[FeedRow], str]:
    assert actor.user_id is not None
    viewer_zone = identity.get_user(actor, actor.user_id).time_zone
    all_teams = teams.list_teams(actor)
    rows = schedule_rows(
        schedules.list_schedules(actor),
        {t.id: t.name for t in all_teams},
        oncall.oncall_everywhere(actor),
        actor.user_id,
        viewer_zone,
    )
    choices = [
        TeamChoice(id=str(t.id), name=t.name)
        for t in all_teams
        if teams.can(actor, t.id, TeamAction.EDIT)
    ]
    return rows, choices, feed_rows(feeds.list_feeds(actor), None, viewer_zone), viewer_zone


class SchedulesState(SessionState):
    schedules: list[ScheduleRow] = []
    team_choices: list[TeamChoice] = []
    my_feeds: list[FeedRow] = []
    new_feed_url: str = ""
    viewer_zone: str = "UTC"
    loaded: bool = False
    creating: bool = False
    create_errors: dict[str, str] = {}

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._watch(SchedulesState, ("schedules",))
        self.new_feed_url = ""
        return await self._reload_as_user()

    async def _reload(self, actor: Actor) -> None:
        self.schedules, self.team_choices, self.my_feeds, self.viewer_zone = await call(
            _load, actor
        )
        self.loaded = True

    @rx.event
    def toggle_create(self):
        self.creating = not self.creating
        self.create_errors = {}

    @rx.event
    async def create(self, form: dict[str, Any]):
        raw = {
            "team_id": form.get("team_id") or None,
            "name": str(form.get("name", "")),
            "time_zone": str(form.get("time_zone", "")),
            "description": str(form.get("description", "")),
        }
        try:
            actor = await self._actor()
            created = await call(schedules.create_schedule, actor, parse(ScheduleCreate, raw))
        except ValidationFailed as exc:
            self.create_errors = errors.field_messages(exc)
            return None
        except Exception as exc:
            return self._fail(exc)
        self.create_errors = {}
        self.creating = False
        return [
            rx.toast.success(f"Schedule {created.name} created"),
            rx.redirect(f"/schedules/{created.id}"),
        ]

    @rx.event
    async def create_my_feed(self):
        try:
            actor = await self._actor()
            created = await call(feeds.create_feed, actor, None)
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

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        known = {s.id: s.name for s in self.schedules}
        await self._reload(actor)
        known.update({s.id: s.name for s in self.schedules})
        verb = _VERBS.get(event.name)
        if verb is None:
            return ""
        name = known.get(int(event.payload.get("schedule_id") or 0), "a schedule")
        return f"{event.actor_label or 'Someone'} {verb} {name}"


def my_teams_oncall(actor: Actor, team_ids: list[int]) -> list[ScheduleRow]:
    """Who is on call now in each schedule of ``team_ids`` (the home page)."""
    assert actor.user_id is not None
    viewer_zone = identity.get_user(actor, actor.user_id).time_zone
    names = {t.id: t.name for t in teams.list_teams(actor) if t.id in team_ids}
    answers = [a for team_id in team_ids for a in oncall.oncall_for_team(actor, team_id)]
    items = [
        ScheduleOut(
            id=a.schedule_id,
            team_id=a.team_id,
            name=a.schedule_name,
            time_zone="",
            description="",
            created_at=a.at,
            updated_at=a.at,
        )
        for a in answers
    ]
    return schedule_rows(items, names, answers, actor.user_id, viewer_zone)
