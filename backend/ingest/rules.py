"""Routing rules (SVC-03): label matchers, in order, that send alerts to another service."""

from __future__ import annotations

from sqlmodel import col, select

from backend.audit import service as audit
from backend.core.actor import Actor
from backend.core.db import unit_of_work
from backend.core.errors import PermissionDenied
from backend.ingest import access, cache
from backend.ingest.errors import IntegrationNotFound, RoutingRuleNotFound
from backend.ingest.models import Integration, RoutingRule
from backend.ingest.schemas import MatcherIn, RoutingRuleCreate, RoutingRuleOut
from backend.teams.policy import TeamAction


def _out(row: RoutingRule) -> RoutingRuleOut:
    assert row.id is not None
    return RoutingRuleOut(
        id=row.id, name=row.name, position=row.position, integration_id=row.integration_id,
        matchers=[MatcherIn.model_validate(m) for m in row.matchers],
        target_service_id=row.target_service_id, enabled=row.enabled,
    )  # fmt: skip


def create_rule(actor: Actor, data: RoutingRuleCreate) -> RoutingRuleOut:
    """Add a rule. A global rule (no integration) needs a platform admin; a rule of one
    integration needs TEAM_ADMIN of its service and of the target service.

    Raises:
        Unauthenticated, PermissionDenied, NotFound, IntegrationNotFound.
    """
    with unit_of_work() as uow:
        access.authorize_service(uow.session, actor, data.target_service_id, TeamAction.EDIT)
        if data.integration_id is None:
            if not actor.is_platform_admin:
                raise PermissionDenied("Only platform admins add rules for every integration.")
        else:
            integration = uow.session.get(Integration, data.integration_id)
            if integration is None or integration.service_id is None:
                raise IntegrationNotFound(f"Integration {data.integration_id} does not exist.")
            access.authorize_service(uow.session, actor, integration.service_id, TeamAction.EDIT)
        row = RoutingRule(
            name=data.name, position=data.position, integration_id=data.integration_id,
            matchers=[m.model_dump(mode="json") for m in data.matchers],
            target_service_id=data.target_service_id,
        )  # fmt: skip
        uow.session.add(row)
        uow.session.flush()
        audit.record(
            uow, actor, "ingest.routing_rule.created", target_type="routing_rule",
            target_id=row.id, target_label=row.name, diff={"after": data.model_dump(mode="json")},
        )  # fmt: skip
        uow.after_commit(cache.clear_all)
        return _out(row)


def list_rules(actor: Actor) -> list[RoutingRuleOut]:
    """Every routing rule in evaluation order (signed-in users).

    Raises:
        Unauthenticated.
    """
    with unit_of_work() as uow:
        access.visible_service_ids(uow.session, actor)
        stmt = select(RoutingRule).order_by(col(RoutingRule.position), col(RoutingRule.id))
        return [_out(row) for row in uow.session.exec(stmt)]


def delete_rule(actor: Actor, rule_id: int) -> None:
    """Delete a rule (TEAM_ADMIN of its target service; global rules: platform admins).

    Raises:
        RoutingRuleNotFound, PermissionDenied.
    """
    with unit_of_work() as uow:
        row = uow.session.get(RoutingRule, rule_id)
        if row is None:
            raise RoutingRuleNotFound(f"Routing rule {rule_id} does not exist.")
        access.authorize_service(uow.session, actor, row.target_service_id, TeamAction.EDIT)
        if row.integration_id is None and not actor.is_platform_admin:
            raise PermissionDenied("Only platform admins delete rules for every integration.")
        audit.record(
            uow, actor, "ingest.routing_rule.deleted", target_type="routing_rule",
            target_id=rule_id, target_label=row.name,
        )  # fmt: skip
        uow.session.delete(row)
        uow.after_commit(cache.clear_all)
