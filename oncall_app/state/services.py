"""The service catalogue: list with search and filters, create; one service with its
dependencies and impact graph; live updates from other browsers."""

from __future__ import annotations

from typing import Any

import reflex as rx
from pydantic import BaseModel

from backend.catalog import service as catalog
from backend.catalog.schemas import (
    ServiceCreate,
    ServiceDetail,
    ServiceImpact,
    ServiceLink,
    ServiceOut,
    ServiceRef,
    ServiceUpdate,
)
from backend.core.actor import Actor
from backend.core.errors import ValidationFailed
from backend.core.events import DomainEvent
from backend.core.validation import parse
from backend.teams import service as teams
from backend.teams.policy import TeamAction
from oncall_app import errors
from oncall_app.services import call
from oncall_app.state.session import SessionState
from oncall_app.state.teams import split_tags

_VERBS = {
    "catalog.service.created": "created",
    "catalog.service.updated": "updated",
    "catalog.service.deleted": "deleted",
    "catalog.dependency.added": "added a dependency to",
    "catalog.dependency.removed": "removed a dependency from",
}


class TeamChoice(BaseModel):
    id: str
    name: str


class GraphNode(BaseModel):
    """One box in the impact drawing. ``role``: self, upstream, downstream."""

    id: int
    name: str
    role: str
    depth: int
    depends_on: str


def parse_links(raw: str) -> list[dict[str, str]]:
    """One link a line, ``Title https://url`` (the title may be left out)."""
    links: list[dict[str, str]] = []
    for line in (raw or "").splitlines():
        line = line.strip()
        if not line:
            continue
        title, _, url = line.rpartition(" ")
        links.append({"title": title.strip() or "Link", "url": url})
    return links


def format_links(links: list[ServiceLink]) -> str:
    return "\n".join(f"{link.title} {link.url}" for link in links)


def describe(event: DomainEvent, service_name: str) -> str:
    verb = _VERBS.get(event.name)
    if verb is None:
        return ""
    return f"{event.actor_label or 'Someone'} {verb} {service_name or 'a service'}"


def _team_choices(actor: Actor) -> list[TeamChoice]:
    """Teams the actor may create services in (TEAM_ADMIN, or every team for platform admins)."""
    return [
        TeamChoice(id=str(t.id), name=t.name)
        for t in teams.list_teams(actor)
        if teams.can(actor, t.id, TeamAction.EDIT)
    ]


def _load_list(
    actor: Actor, team_id: int | None, tag: str, text: str
) -> tuple[list[ServiceOut], list[TeamChoice], list[TeamChoice]]:
    services = catalog.list_services(actor, team_id=team_id, tag=tag, text=text)
    all_teams = [TeamChoice(id=str(t.id), name=t.name) for t in teams.list_teams(actor)]
    return services, all_teams, _team_choices(actor)


class ServicesState(SessionState):
    services: list[ServiceOut] = []
    teams: list[TeamChoice] = []
    owner_choices: list[TeamChoice] = []
    search: str = ""
    team_filter: str = ""
    tag_filter: str = ""
    loaded: bool = False
    creating: bool = False
    create_errors: dict[str, str] = {}

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._watch(ServicesState, ("services",))
        return await self._reload_as_user()

    async def _reload(self, actor: Actor) -> None:
        team_id = int(self.team_filter) if self.team_filter.isdigit() else None
        self.services, self.teams, self.owner_choices = await call(
            _load_list, actor, team_id, self.tag_filter.strip(), self.search.strip()
        )
        self.loaded = True

    async def _refilter(self):
        return await self._reload_as_user()

    @rx.event
    async def search_changed(self, value: str):
        self.search = value
        return await self._refilter()

    @rx.event
    async def team_changed(self, value: str):
        self.team_filter = value
        return await self._refilter()

    @rx.event
    async def tag_changed(self, value: str):
        self.tag_filter = value
        return await self._refilter()

    @rx.event
    async def filter_tag(self, tag: str):
        self.tag_filter = tag
        return await self._refilter()

    @rx.event
    def toggle_create(self):
        self.creating = not self.creating
        self.create_errors = {}

    @rx.event
    async def create(self, form: dict[str, Any]):
        raw = {
            "name": str(form.get("name", "")),
            "team_id": form.get("team_id") or None,
            "description": str(form.get("description", "")),
            "tags": split_tags(str(form.get("tags", ""))),
            "links": parse_links(str(form.get("links", ""))),
        }
        try:
            actor = await self._actor()
            created = await call(catalog.create_service, actor, parse(ServiceCreate, raw))
        except ValidationFailed as exc:
            self.create_errors = errors.field_messages(exc)
            return None
        except Exception as exc:
            return self._fail(exc)
        self.create_errors = {}
        self.creating = False
        return [rx.toast.success(f"Service {created.name} created"), rx.redirect(_href(created.id))]

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        known = {s.id: s.name for s in self.services}
        await self._reload(actor)
        known.update({s.id: s.name for s in self.services})
        return describe(event, known.get(int(event.payload.get("service_id") or 0), ""))


def _href(service_id: int) -> str:
    return f"/services/{service_id}"


def _load_detail(
    actor: Actor, service_id: int
) -> tuple[ServiceDetail, ServiceImpact, list[ServiceOut], list[TeamChoice]]:
    # One thread hop for the page: detail, impact, the dependency picker, the owner picker.
    detail = catalog.get_service(actor, service_id)
    impact = catalog.get_impact(actor, service_id)
    others = catalog.list_services(actor) if detail.can_edit else []
    owners = _team_choices(actor) if detail.can_edit else []
    return detail, impact, others, owners


def drawing(impact: ServiceImpact) -> list[list[GraphNode]]:
    """The impact graph as rows to draw top-down: dependents on top, foundations at the bottom."""
    names = {impact.service.id: impact.service.name}
    role = {impact.service.id: "self"}
    depth = {impact.service.id: 0}
    for node in impact.upstream:
        names[node.id], role[node.id], depth[node.id] = node.name, "upstream", node.depth
    for node in impact.downstream:
        names[node.id], role[node.id], depth[node.id] = node.name, "downstream", node.depth
    deps: dict[int, list[str]] = {}
    for edge in impact.edges:
        deps.setdefault(edge.service_id, []).append(names[edge.depends_on_id])
    return [
        [
            GraphNode(
                id=n,
                name=names[n],
                role=role[n],
                depth=depth[n],
                depends_on=", ".join(sorted(deps.get(n, []))),
            )
            for n in sorted(layer, key=lambda i: names[i])
        ]
        for layer in reversed(impact.layers)
    ]


class ServiceDetailState(SessionState):
    found: bool = False
    loaded: bool = False
    name: str = ""
    slug: str = ""
    description: str = ""
    team_id: str = ""
    team_name: str = ""
    escalation_policy_id: str = ""
    tags: list[str] = []
    links: list[ServiceLink] = []
    is_triage: bool = False
    can_edit: bool = False
    depends_on: list[ServiceRef] = []
    dependents: list[ServiceRef] = []
    candidates: list[TeamChoice] = []
    owner_choices: list[TeamChoice] = []
    upstream_count: int = 0
    downstream_count: int = 0
    graph_rows: list[list[GraphNode]] = []
    editing: bool = False
    edit_errors: dict[str, str] = {}
    _service_id: int = 0

    @rx.var
    def heading(self) -> str:
        return self.name if self.found and self.name else "Service"

    @rx.var
    def links_text(self) -> str:
        return format_links(self.links)

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._service_id = self._route_id()
        self.loaded = False
        self.editing = False
        self._watch(ServiceDetailState, (f"service:{self._service_id}",))
        try:
            await self._reload(await self._actor())
        except Exception as exc:
            self.found = False
            self.loaded = True
            return self._fail(exc)
        return None

    async def _reload(self, actor: Actor) -> None:
        detail, impact, others, owners = await call(_load_detail, actor, self._service_id)
        self.found = True
        self.loaded = True
        self.name = detail.name
        self.slug = detail.slug
        self.description = detail.description
        self.team_id = str(detail.team_id or "")
        self.team_name = detail.team_name or ""
        self.escalation_policy_id = str(detail.escalation_policy_id or "")
        self.tags = detail.tags
        self.links = detail.links
        self.is_triage = detail.is_triage
        self.can_edit = detail.can_edit
        self.depends_on = detail.depends_on
        self.dependents = detail.dependents
        taken = {detail.id, *(r.id for r in detail.depends_on)}
        self.candidates = [
            TeamChoice(id=str(s.id), name=s.name)
            for s in others
            if s.id not in taken and not s.is_triage
        ]
        self.owner_choices = owners
        self.upstream_count = len(impact.upstream)
        self.downstream_count = len(impact.downstream)
        self.graph_rows = drawing(impact)

    async def _command(self, fn: Any, *args: Any, done: str = "") -> tuple[bool, list[Any]]:
        """Run a catalogue command as the freshly resolved actor, then re-read the page."""
        try:
            actor = await self._actor()
            await call(fn, actor, self._service_id, *args)
            await self._reload(actor)
        except Exception as exc:
            return False, self._fail(exc)
        return True, [rx.toast.success(done)] if done else []

    @rx.event
    def toggle_edit(self):
        self.editing = not self.editing
        self.edit_errors = {}

    @rx.event
    async def save(self, form: dict[str, Any]):
        raw: dict[str, Any] = {
            "name": str(form.get("name", "")),
            "description": str(form.get("description", "")),
            "tags": split_tags(str(form.get("tags", ""))),
            "links": parse_links(str(form.get("links", ""))),
            "escalation_policy_id": form.get("escalation_policy_id") or None,
        }
        if form.get("team_id"):
            raw["team_id"] = form["team_id"]
        try:
            data = parse(ServiceUpdate, raw)
        except ValidationFailed as exc:
            self.edit_errors = errors.field_messages(exc)
            return None
        ok, events = await self._command(catalog.update_service, data, done="Service saved")
        if ok:
            self.editing = False
            self.edit_errors = {}
        return events

    @rx.event
    async def add_dependency(self, form: dict[str, Any]):
        raw = str(form.get("depends_on_id") or "")
        if not raw.isdigit():
            return rx.toast.error("Choose a service first")
        return (await self._command(catalog.add_dependency, int(raw), done="Dependency added"))[1]

    @rx.event
    async def remove_dependency(self, depends_on_id: int):
        return (
            await self._command(
                catalog.remove_dependency, int(depends_on_id), done="Dependency removed"
            )
        )[1]

    @rx.event
    async def delete(self):
        try:
            actor = await self._actor()
            await call(catalog.delete_service, actor, self._service_id)
        except Exception as exc:
            return self._fail(exc)
        return [rx.toast.success(f"Service {self.name} deleted"), rx.redirect("/services")]

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        if event.name == "catalog.service.deleted" and (
            int(event.payload.get("service_id") or 0) == self._service_id
        ):
            self.found = False
            return describe(event, self.name)
        await self._reload(actor)
        return describe(event, self.name)
