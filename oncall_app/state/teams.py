"""The teams list: search, create, live updates from other browsers."""

from __future__ import annotations

import re
from typing import Any

import reflex as rx

from backend.core.actor import Actor
from backend.core.errors import NotFound, ValidationFailed
from backend.core.events import DomainEvent
from backend.core.validation import parse
from backend.identity import service as identity
from backend.teams import service as teams
from backend.teams.schemas import TeamCreate, TeamOut
from oncall_app import errors
from oncall_app.services import call
from oncall_app.state.session import SessionState

_VERBS = {
    "teams.team.created": "created",
    "teams.team.updated": "updated",
    "teams.team.deleted": "deleted",
    "teams.member.added": "added {user} to",
    "teams.member.removed": "removed {user} from",
    "teams.member.left": "left",
    "teams.member.role_changed": "changed the role of {user} in",
}


def split_tags(raw: str) -> list[str]:
    """``"payments, eu  backend"`` → ``["payments", "eu", "backend"]``."""
    return [t for t in re.split(r"[,\s]+", raw or "") if t]


def describe(event: DomainEvent, team_name: str, user_label: str) -> str:
    """ "alice@x added bob to Platform": the toast other browsers see for a team change."""
    verb = _VERBS.get(event.name)
    if verb is None:
        return ""
    who = event.actor_label or "Someone"
    return f"{who} {verb.format(user=user_label or 'a user')} {team_name or 'a team'}"


async def live_message(actor: Actor, event: DomainEvent, known_names: dict[int, str]) -> str:
    """Describe a team event, looking up names the event carries only as ids."""
    team_id = int(event.payload.get("team_id") or 0)
    team_name = known_names.get(team_id, "")
    if not team_name and event.name != "teams.team.deleted":
        try:
            team_name = (await call(teams.get_team, actor, team_id)).name
        except NotFound:
            team_name = ""
    user_label = ""
    if user_id := event.payload.get("user_id"):
        try:
            user_label = (await call(identity.get_user, actor, int(user_id))).name
        except NotFound:
            user_label = ""
    return describe(event, team_name, user_label)


class TeamsState(SessionState):
    teams: list[TeamOut] = []
    search: str = ""
    loaded: bool = False
    creating: bool = False
    create_errors: dict[str, str] = {}

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._watch(TeamsState, ("teams",))
        return await self._reload_as_user()

    async def _reload(self, actor: Actor) -> None:
        self.teams = await call(teams.list_teams, actor, text=self.search.strip())
        self.loaded = True

    @rx.event
    async def search_changed(self, value: str):
        self.search = value
        return await self._reload_as_user()

    @rx.event
    def toggle_create(self):
        self.creating = not self.creating
        self.create_errors = {}

    @rx.event
    async def create(self, form: dict[str, Any]):
        data = {
            "name": str(form.get("name", "")),
            "description": str(form.get("description", "")),
            "org_tags": split_tags(str(form.get("org_tags", ""))),
            "tech_tags": split_tags(str(form.get("tech_tags", ""))),
        }
        try:
            actor = await self._actor()
            created = await call(teams.create_team, actor, parse(TeamCreate, data))
        except ValidationFailed as exc:
            self.create_errors = errors.field_messages(exc)
            return None
        except Exception as exc:
            return self._fail(exc)
        self.create_errors = {}
        self.creating = False
        try:
            await self._reload(actor)
        except Exception as exc:
            return self._fail(exc)
        return rx.toast.success(f"Team {created.name} created")

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        known = {t.id: t.name for t in self.teams}
        await self._reload(actor)
        known.update({t.id: t.name for t in self.teams})
        return await live_message(actor, event, known)
