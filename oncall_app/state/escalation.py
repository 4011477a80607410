"""/escalation: every team's escalation policies (ROUTE-01) with an editor, and the paging
preview (ROUTE-03): for a service and a moment, who would be paged at which minute.

The editor keeps a draft of levels in state (targets as ``"user:3"``/``"schedule:5"`` keys)
and sends the whole policy on save; the service checks targets belong to the team and answers
422 per field, shown beside the form.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import reflex as rx
from pydantic import BaseModel

from backend.catalog import service as catalog
from backend.core.actor import Actor
from backend.core.errors import ValidationFailed
from backend.core.events import DomainEvent
from backend.escalation import preview as previews
from backend.escalation import service as policies
from backend.escalation.policy import DEFAULT_TIMEOUT, MAX_LEVELS, MAX_REPEAT
from backend.escalation.schemas import PagingPreview, PolicyCreate, PolicyOut, PolicyUpdate
from backend.schedules import service as schedules
from backend.teams import service as teams
from backend.teams.policy import TeamAction
from backend.teams.schemas import TeamOut
from oncall_app import errors
from oncall_app.services import call
from oncall_app.state.integrations import Choice
from oncall_app.state.session import SessionState


class TargetRow(BaseModel):
    key: str  # "user:3" / "schedule:5"
    name: str
    is_schedule: bool


class LevelRow(BaseModel):
    timeout: int = DEFAULT_TIMEOUT
    targets: list[TargetRow] = []


class PolicyRow(BaseModel):
    id: int
    name: str
    description: str
    repeat: int
    is_default: bool
    levels: list[str]  # "30 min → Bob Builder, Primary (schedule)"
    service_count: int


class TeamGroup(BaseModel):
    team_id: int
    team_name: str
    policies: list[PolicyRow]


class PreviewRow(BaseModel):
    minute: str
    level: int
    repeat: int
    at: str
    who: str
    warnings: list[str]


def level_text(position: int, timeout: int, names: list[str]) -> str:
    """ "Level 1: Bob, Primary (schedule) · then 30 min" """
    return f"Level {position}: {', '.join(names) if names else 'nobody'} · then {timeout} min"


def groups_of(rows: list[PolicyOut], team_names: dict[int, str]) -> list[TeamGroup]:
    """Policies grouped by team (by team name), default first within a team."""
    by_team: dict[int, list[PolicyOut]] = {}
    for p in rows:
        by_team.setdefault(p.team_id, []).append(p)
    out: list[TeamGroup] = []
    for team_id, items in by_team.items():
        items.sort(key=lambda p: (not p.is_default, p.name.lower()))
        out.append(
            TeamGroup(
                team_id=team_id,
                team_name=team_names.get(team_id) or items[0].team_name,
                policies=[
                    PolicyRow(
                        id=p.id,
                        name=p.name,
                        description=p.description,
                        repeat=p.repeat,
                        is_default=p.is_default,
                        levels=[
                            level_text(
                                lv.position,
                                lv.timeout_minutes,
                                [
                                    f"{t.name} (schedule)" if t.type.value == "schedule" else t.name
                                    for t in lv.targets
                                ],
                            )
                            for lv in p.levels
                        ],
                        service_count=len(p.service_ids),
                    )
                    for p in items
                ],
            )
        )
    out.sort(key=lambda g: g.team_name.lower())
    return out


def levels_payload(levels: list[LevelRow]) -> list[dict[str, Any]]:
    """The draft as the service's ``levels`` input."""
    return [
        {
            "timeout_minutes": lv.timeout,
            "targets": [
                {"type": t.key.split(":", 1)[0], "id": int(t.key.split(":", 1)[1])}
                for t in lv.targets
            ],
        }
        for lv in levels
    ]


def draft_of(policy: PolicyOut) -> list[LevelRow]:
    return [
        LevelRow(
            timeout=lv.timeout_minutes,
            targets=[
                TargetRow(
                    key=f"{t.type.value}:{t.id}",
                    name=t.name,
                    is_schedule=t.type.value == "schedule",
                )
                for t in lv.targets
            ],
        )
        for lv in policy.levels
    ]


def parse_at(raw: str) -> datetime | None:
    """A ``datetime-local`` value read as UTC; None for blank or unreadable text."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def preview_rows(data: PagingPreview) -> list[PreviewRow]:
    return [
        PreviewRow(
            minute=f"{step.minute:g}",
            level=step.level,
            repeat=step.repeat,
            at=step.at.isoformat(),
            who=", ".join(f"{p.user_name} ({p.via})" for p in step.pages) or "nobody",
            warnings=step.warnings,
        )
        for step in data.steps
    ]


def _editable(actor: Actor, team_rows: list[TeamOut]) -> list[Choice]:
    """Teams whose policies ``actor`` may change (one thread hop for all of them)."""
    return [
        Choice(id=str(t.id), name=t.name)
        for t in team_rows
        if teams.can(actor, t.id, TeamAction.EDIT)
    ]


def _clamp(raw: Any, low: int, high: int, default: int) -> int:
    text = str(raw or "").strip()
    return max(low, min(high, int(text))) if text.isdigit() else default


class EscalationState(SessionState):
    groups: list[TeamGroup] = []
    loaded: bool = False
    teams: list[Choice] = []
    editable_teams: list[Choice] = []
    services: list[Choice] = []
    # editor
    editing: bool = False
    edit_id: int = 0
    edit_team: str = ""
    edit_name: str = ""
    edit_description: str = ""
    edit_repeat: int = 0
    edit_default: bool = False
    levels: list[LevelRow] = []
    target_options: list[Choice] = []
    edit_errors: dict[str, str] = {}
    # preview
    preview_service: str = ""
    preview_at: str = ""
    preview_policy: str = ""
    preview_steps: list[PreviewRow] = []
    preview_warnings: list[str] = []
    preview_notes: list[str] = []
    preview_done: bool = False
    exhausted_after: str = ""

    @rx.var
    def can_add_level(self) -> bool:
        return len(self.levels) < MAX_LEVELS

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._watch(EscalationState, ("escalation_policies",))
        self.editing = False
        try:
            actor = await self._actor()
            await self._reload(actor)
            team_rows = await call(teams.list_teams, actor)
            self.teams = [Choice(id=str(t.id), name=t.name) for t in team_rows]
            self.editable_teams = await call(_editable, actor, team_rows)
            services = await call(catalog.list_services, actor)
            self.services = [Choice(id=str(s.id), name=s.name) for s in services]
        except Exception as exc:
            return self._fail(exc)
        return None

    async def _reload(self, actor: Actor) -> None:
        rows = await call(policies.list_policies, actor)
        self.groups = groups_of(rows, {int(t.id): t.name for t in self.teams})
        self.loaded = True

    # ---- editor ----------------------------------------------------------------------
    async def _load_targets(self, actor: Actor, team_id: int) -> None:
        if not team_id:
            self.target_options = []
            return
        team = await call(teams.get_team, actor, team_id)
        team_schedules = await call(schedules.list_schedules, actor, team_id=team_id)
        self.target_options = [
            *(Choice(id=f"user:{m.user_id}", name=m.name) for m in team.members),
            *(Choice(id=f"schedule:{s.id}", name=f"{s.name} (schedule)") for s in team_schedules),
        ]

    @rx.event
    async def new_policy(self):
        self.editing = True
        self.edit_id = 0
        self.edit_team = self.editable_teams[0].id if self.editable_teams else ""
        self.edit_name = self.edit_description = ""
        self.edit_repeat = 0
        self.edit_default = False
        self.levels = [LevelRow()]
        self.edit_errors = {}
        try:
            await self._load_targets(await self._actor(), int(self.edit_team or 0))
        except Exception as exc:
            return self._fail(exc)
        return None

    @rx.event
    async def edit_policy(self, policy_id: int):
        try:
            actor = await self._actor()
            policy = await call(policies.get_policy, actor, policy_id)
            await self._load_targets(actor, policy.team_id)
        except Exception as exc:
            return self._fail(exc)
        self.editing = True
        self.edit_id = policy.id
        self.edit_team = str(policy.team_id)
        self.edit_name = policy.name
        self.edit_description = policy.description
        self.edit_repeat = policy.repeat
        self.edit_default = policy.is_default
        self.levels = draft_of(policy)
        self.edit_errors = {}
        return None

    @rx.event
    def cancel_edit(self):
        self.editing = False
        self.edit_errors = {}

    @rx.event
    async def set_edit_team(self, value: str):
        self.edit_team = value
        self.levels = [LevelRow(timeout=lv.timeout) for lv in self.levels]  # targets are per team
        try:
            await self._load_targets(await self._actor(), int(value or 0))
        except Exception as exc:
            return self._fail(exc)
        return None

    @rx.event
    def set_edit_name(self, value: str):
        self.edit_name = value[:120]

    @rx.event
    def set_edit_description(self, value: str):
        self.edit_description = value[:2000]

    @rx.event
    def set_edit_repeat(self, value: str):
        self.edit_repeat = _clamp(value, 0, MAX_REPEAT, 0)

    @rx.event
    def set_edit_default(self, value: bool):
        self.edit_default = bool(value)

    @rx.event
    def add_level(self):
        if len(self.levels) < MAX_LEVELS:
            self.levels = [*self.levels, LevelRow()]

    @rx.event
    def remove_level(self, index: int):
        if 0 <= index < len(self.levels) and len(self.levels) > 1:
            self.levels = [lv for i, lv in enumerate(self.levels) if i != index]

    @rx.event
    def move_level(self, index: int, delta: int):
        other = index + delta
        if 0 <= index < len(self.levels) and 0 <= other < len(self.levels):
            levels = list(self.levels)
            levels[index], levels[other] = levels[other], levels[index]
            self.levels = levels

    @rx.event
    def set_timeout(self, index: int, value: str):
        if 0 <= index < len(self.levels):
            levels = list(self.levels)
            levels[index] = levels[index].model_copy(
                update={"timeout": _clamp(value, 1, 1440, DEFAULT_TIMEOUT)}
            )
            self.levels = levels

    @rx.event
    def add_target(self, index: int, key: str):
        option = next((o for o in self.target_options if o.id == key), None)
        if option is None or not 0 <= index < len(self.levels):
            return
        level = self.levels[index]
        if any(t.key == key for t in level.targets):
            return
        target = TargetRow(key=key, name=option.name, is_schedule=key.startswith("schedule:"))
        levels = list(self.levels)
        levels[index] = level.model_copy(update={"targets": [*level.targets, target]})
        self.levels = levels

    @rx.event
    def remove_target(self, index: int, key: str):
        if 0 <= index < len(self.levels):
            levels = list(self.levels)
            level = levels[index]
            levels[index] = level.model_copy(
                update={"targets": [t for t in level.targets if t.key != key]}
            )
            self.levels = levels

    @rx.event
    async def save(self):
        if any(not lv.targets for lv in self.levels):
            self.edit_errors = {"levels": "Every level needs at least one user or schedule."}
            return None
        data: dict[str, Any] = {
            "name": self.edit_name.strip(),
            "description": self.edit_description.strip(),
            "repeat": self.edit_repeat,
            "levels": levels_payload(self.levels),
        }
        try:
            actor = await self._actor()
            if self.edit_id:
                if self.edit_default:
                    data["is_default"] = True
                saved = await call(
                    policies.update_policy, actor, self.edit_id, PolicyUpdate.model_validate(data)
                )
            else:
                data |= {"team_id": int(self.edit_team or 0), "is_default": self.edit_default}
                saved = await call(policies.create_policy, actor, PolicyCreate.model_validate(data))
            await self._reload(actor)
        except ValidationFailed as exc:
            self.edit_errors = errors.field_messages(exc)
            return None
        except ValueError as exc:  # pydantic: the draft itself is out of range
            self.edit_errors = {"form": str(exc).splitlines()[0]}
            return None
        except Exception as exc:
            return self._fail(exc)
        self.editing = False
        self.edit_errors = {}
        return rx.toast.success(f"Policy {saved.name} saved")

    @rx.event
    async def delete_policy(self, policy_id: int):
        try:
            actor = await self._actor()
            await call(policies.delete_policy, actor, policy_id)
            await self._reload(actor)
        except Exception as exc:
            return self._fail(exc)  # 409 policy_in_use arrives as a toast with the incidents
        if self.edit_id == policy_id:
            self.editing = False
        return rx.toast.success("Policy deleted")

    # ---- preview ---------------------------------------------------------------------
    @rx.event
    def set_preview_service(self, value: str):
        self.preview_service = value

    @rx.event
    def set_preview_at(self, value: str):
        self.preview_at = value

    @rx.event
    async def run_preview(self):
        if not self.preview_service.isdigit():
            return rx.toast.error("Choose a service")
        try:
            data = await call(
                previews.preview_paging,
                await self._actor(),
                int(self.preview_service),
                parse_at(self.preview_at),
            )
        except Exception as exc:
            return self._fail(exc)
        self.preview_policy = (
            f"{data.policy_name} ({data.policy_source})" if data.policy_name else data.policy_source
        )
        self.preview_steps = preview_rows(data)
        self.preview_warnings = data.warnings
        self.preview_notes = data.notes
        self.exhausted_after = (
            f"{data.exhausted_after_minutes:g}" if data.exhausted_after_minutes is not None else ""
        )
        self.preview_done = True
        return None

    # ---- live ------------------------------------------------------------------------
    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        await self._reload(actor)
        verb = event.name.rsplit(".", 1)[-1]
        return f"{event.actor_label or 'Someone'} {verb} an escalation policy"
