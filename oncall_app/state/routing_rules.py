"""/routing-rules (SVC-03): label matchers, in order, that send alerts to another service.

The services decide who may add or delete a rule (a global rule needs a platform admin; a
rule of one integration needs TEAM_ADMIN of both services); refusals are toasted.
"""

from __future__ import annotations

import re
from typing import Any

import reflex as rx
from pydantic import BaseModel

from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceOut
from backend.core.actor import Actor
from backend.core.errors import ValidationFailed
from backend.core.validation import parse
from backend.ingest import integrations, rules
from backend.ingest.schemas import IntegrationOut, RoutingRuleCreate, RoutingRuleOut
from oncall_app import errors
from oncall_app.services import call
from oncall_app.state.services import TeamChoice
from oncall_app.state.session import SessionState

# Longest operator first, so ``=~`` is not read as ``=`` followed by ``~…``.
_MATCHER = re.compile(r"^\s*([^=!~\s]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


class RuleRow(BaseModel):
    id: int
    name: str
    position: int
    scope: str
    matchers: str
    target_id: int
    target_name: str


def parse_matchers(text: str) -> list[dict[str, str]] | str:
    """``env = prod`` lines → matcher dicts; the first unreadable line's message otherwise."""
    out: list[dict[str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        found = _MATCHER.match(line)
        if found is None:
            return f"Line {number}: write label, an operator (= != =~ !~) and a value."
        out.append({"label": found[1], "op": found[2], "value": found[3]})
    return out


def matchers_text(rule: RoutingRuleOut) -> str:
    return ", ".join(f"{m.label} {m.op.value} {m.value}" for m in rule.matchers)


def rows_of(
    found: list[RoutingRuleOut], services: list[ServiceOut], hooks: list[IntegrationOut]
) -> list[RuleRow]:
    service_names = {s.id: s.name for s in services}
    hook_names = {i.id: i.name for i in hooks}
    return [
        RuleRow(
            id=r.id,
            name=r.name,
            position=r.position,
            scope=(
                "every integration"
                if r.integration_id is None
                else hook_names.get(r.integration_id, f"integration #{r.integration_id}")
            ),
            matchers=matchers_text(r),
            target_id=r.target_service_id,
            target_name=service_names.get(r.target_service_id, f"#{r.target_service_id}"),
        )
        for r in found
    ]


def _load(
    actor: Actor,
) -> tuple[list[RoutingRuleOut], list[ServiceOut], list[IntegrationOut]]:
    return (
        rules.list_rules(actor),
        catalog.list_services(actor),
        integrations.list_integrations(actor),
    )


class RoutingRulesState(SessionState):
    rows: list[RuleRow] = []
    service_choices: list[TeamChoice] = []
    integration_choices: list[TeamChoice] = []
    form_errors: dict[str, str] = {}
    loaded: bool = False

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self.loaded = False
        return await self._reload_as_user()

    async def _reload(self, actor: Actor) -> None:
        found, services, hooks = await call(_load, actor)
        self.rows = rows_of(found, services, hooks)
        self.service_choices = [
            TeamChoice(id=str(s.id), name=s.name) for s in services if not s.is_triage
        ]
        self.integration_choices = [TeamChoice(id=str(i.id), name=i.name) for i in hooks]
        self.loaded = True

    @rx.event
    async def create(self, form: dict[str, Any]):
        matchers = parse_matchers(str(form.get("matchers", "")))
        if isinstance(matchers, str):
            self.form_errors = {"matchers": matchers}
            return None
        raw = {
            "name": str(form.get("name", "")),
            "position": str(form.get("position", "") or "100"),
            "integration_id": form.get("integration_id") or None,
            "matchers": matchers,
            "target_service_id": form.get("target_service_id") or None,
        }
        try:
            data = parse(RoutingRuleCreate, raw)
            actor = await self._actor()
            created = await call(rules.create_rule, actor, data)
            await self._reload(actor)
        except ValidationFailed as exc:
            self.form_errors = errors.field_messages(exc)
            return None
        except Exception as exc:
            return self._fail(exc)
        self.form_errors = {}
        return rx.toast.success(f"Routing rule {created.name} added")

    @rx.event
    async def delete(self, rule_id: int):
        try:
            actor = await self._actor()
            await call(rules.delete_rule, actor, int(rule_id))
            await self._reload(actor)
        except Exception as exc:
            return self._fail(exc)
        return rx.toast.success("Routing rule deleted")
