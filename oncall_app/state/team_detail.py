"""One team: members and roles, editing, deleting, leaving; live updates from other browsers."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.core.actor import Actor
from backend.core.errors import ValidationFailed
from backend.core.events import DomainEvent
from backend.core.validation import parse
from backend.identity import service as identity
from backend.identity.schemas import UserOut
from backend.teams import service as teams
from backend.teams.models import TeamRole
from backend.teams.policy import TeamAction
from backend.teams.schemas import MemberAdd, MemberOut, TeamDetail, TeamUpdate
from oncall_app import errors
from oncall_app.services import call
from oncall_app.state.session import SessionState
from oncall_app.state.teams import live_message, split_tags


def _load_page(actor: Actor, team_id: int) -> tuple[TeamDetail, dict[str, bool], list[UserOut]]:
    # One thread hop for the whole page: detail, what the buttons may offer, the user picker.
    detail = teams.get_team(actor, team_id)
    allowed = {action.value: teams.can(actor, team_id, action) for action in TeamAction}
    users = identity.list_users(actor) if allowed[TeamAction.MANAGE_MEMBERS.value] else []
    return detail, allowed, users


class TeamDetailState(SessionState):
    found: bool = False
    loaded: bool = False
    name: str = ""
    description: str = ""
    org_tags: list[str] = []
    tech_tags: list[str] = []
    required_channels: list[str] = []  # USER-03: kinds a member needs verified to be on call
    health_warnings: list[str] = []
    members: list[MemberOut] = []
    my_role: str = ""
    can_edit: bool = False
    can_manage: bool = False
    can_delete: bool = False
    candidates: list[UserOut] = []
    editing: bool = False
    edit_errors: dict[str, str] = {}
    add_errors: dict[str, str] = {}
    _team_id: int = 0

    @rx.var
    def heading(self) -> str:
        return self.name if self.found and self.name else "Team"

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._team_id = self._route_id()
        self.loaded = False
        self.editing = False
        self._watch(TeamDetailState, (f"team:{self._team_id}",))
        try:
            await self._reload(await self._actor())
        except Exception as exc:
            self.found = False
            self.loaded = True
            return self._fail(exc)
        return None

    async def _reload(self, actor: Actor) -> None:
        detail, allowed, users = await call(_load_page, actor, self._team_id)
        self.found = True
        self.loaded = True
        self.name = detail.name
        self.description = detail.description
        self.org_tags = detail.org_tags
        self.tech_tags = detail.tech_tags
        self.required_channels = detail.required_channels
        self.health_warnings = detail.health_warnings
        self.members = detail.members
        self.my_role = detail.my_role.value if detail.my_role else ""
        self.can_edit = allowed[TeamAction.EDIT.value]
        self.can_manage = allowed[TeamAction.MANAGE_MEMBERS.value]
        self.can_delete = allowed[TeamAction.DELETE.value]
        member_ids = {m.user_id for m in detail.members}
        self.candidates = [u for u in users if u.id not in member_ids]

    async def _command(self, fn: Any, *args: Any, done: str = "") -> tuple[bool, list[Any]]:
        """Run a team command as the freshly resolved actor, then re-read the page."""
        try:
            actor = await self._actor()
            await call(fn, actor, self._team_id, *args)
            await self._reload(actor)
        except Exception as exc:
            return False, self._fail(exc)
        return True, [rx.toast.success(done)] if done else []

    @rx.event
    async def add_member(self, form: dict[str, Any]):
        raw = {"user_id": form.get("user_id") or None, "role": form.get("role") or "RESPONDER"}
        try:
            data = parse(MemberAdd, raw)
        except ValidationFailed as exc:
            self.add_errors = errors.field_messages(exc)
            return None
        self.add_errors = {}
        return (await self._command(teams.add_member, data, done="Member added"))[1]

    @rx.event
    async def change_role(self, user_id: int, role: str):
        if role not in TeamRole.__members__:
            return rx.toast.error("Unknown role", description=role)
        _ok, events = await self._command(
            teams.change_role, int(user_id), TeamRole(role), done="Role changed"
        )
        return events

    @rx.event
    async def remove_member(self, user_id: int):
        return (await self._command(teams.remove_member, int(user_id), done="Member removed"))[1]

    @rx.event
    async def leave(self):
        ok, events = await self._command(teams.remove_member, self.user_id)
        if not ok:  # for example: you are the last admin
            return events
        return [rx.toast.success(f"You left {self.name}"), rx.redirect("/teams")]

    @rx.event
    def toggle_edit(self):
        self.editing = not self.editing
        self.edit_errors = {}

    @rx.event
    async def save(self, form: dict[str, Any]):
        raw = {
            "name": str(form.get("name", "")),
            "description": str(form.get("description", "")),
            "org_tags": split_tags(str(form.get("org_tags", ""))),
            "tech_tags": split_tags(str(form.get("tech_tags", ""))),
            "required_channels": split_tags(str(form.get("required_channels", ""))),
        }
        try:
            data = parse(TeamUpdate, raw)
        except ValidationFailed as exc:
            self.edit_errors = errors.field_messages(exc)
            return None
        ok, events = await self._command(teams.update_team, data, done="Team saved")
        if ok:
            self.editing = False
            self.edit_errors = {}
        return events

    @rx.event
    async def delete(self):
        try:
            actor = await self._actor()
            await call(teams.delete_team, actor, self._team_id)
        except Exception as exc:
            return self._fail(exc)
        return [rx.toast.success(f"Team {self.name} deleted"), rx.redirect("/teams")]

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        message = await live_message(actor, event, {self._team_id: self.name})
        if event.name == "teams.team.deleted":
            self.found = False
            return message
        await self._reload(actor)
        return message
