"""An idempotent demo organisation: people and teams to try the product with.

Later areas (services, schedules, integrations) add their own parts here.
"""

from __future__ import annotations

from typing import Any

from backend.catalog import queries as catalog_queries
from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceCreate, ServiceLink, slugify
from backend.core.actor import Actor
from backend.core.db import unit_of_work
from backend.demo.escalation import ensure_policies
from backend.demo.integrations import ensure_integrations
from backend.demo.notifications import ensure_contact_methods
from backend.demo.schedules import ensure_schedules
from backend.identity import queries as identity_queries
from backend.identity.models import User
from backend.teams import queries as team_queries
from backend.teams import service as teams
from backend.teams.models import TeamRole
from backend.teams.schemas import MemberAdd, TeamCreate

DEMO_USERS = [
    ("alice@demo.oncall.local", "Alice Adams", "America/New_York"),
    ("bob@demo.oncall.local", "Bob Brown", "Europe/Berlin"),
    ("carol@demo.oncall.local", "Carol Chen", "Australia/Sydney"),
    ("dave@demo.oncall.local", "Dave Diaz", "America/Los_Angeles"),
    ("erin@demo.oncall.local", "Erin Evans", "Europe/London"),
]
DEMO_TEAMS: list[tuple[str, str, list[str], list[str], list[tuple[str, TeamRole]]]] = [
    (
        "Platform",
        "Kubernetes, networking and the shared data stores.",
        ["org:engineering", "cost-center:100"],
        ["kubernetes", "postgres"],
        [
            ("alice@demo.oncall.local", TeamRole.TEAM_ADMIN),
            ("bob@demo.oncall.local", TeamRole.RESPONDER),
            ("carol@demo.oncall.local", TeamRole.RESPONDER),
            ("erin@demo.oncall.local", TeamRole.OBSERVER),
        ],
    ),
    (
        "Payments",
        "Checkout, billing and the payment provider integrations.",
        ["org:commerce"],
        ["python", "stripe"],
        [
            ("dave@demo.oncall.local", TeamRole.TEAM_ADMIN),
            ("bob@demo.oncall.local", TeamRole.RESPONDER),
        ],
    ),
]

# (name, owning team, description, tags, links)
DEMO_SERVICES: list[tuple[str, str, str, list[str], list[tuple[str, str]]]] = [
    (
        "Postgres",
        "Platform",
        "The primary PostgreSQL cluster.",
        ["tier:1", "database"],
        [("Runbook", "https://runbooks.demo.oncall.local/postgres")],
    ),
    (
        "API Gateway",
        "Platform",
        "Public edge: TLS, routing and rate limits.",
        ["tier:1", "edge"],
        [("Dashboard", "https://grafana.demo.oncall.local/d/gateway")],
    ),
    (
        "Payments API",
        "Payments",
        "Charges, refunds and the payment provider integrations.",
        ["tier:1", "python"],
        [
            ("Runbook", "https://runbooks.demo.oncall.local/payments-api"),
            ("Dashboard", "https://grafana.demo.oncall.local/d/payments"),
        ],
    ),
    (
        "Checkout",
        "Payments",
        "The checkout web flow.",
        ["tier:2", "web"],
        [("Repository", "https://git.demo.oncall.local/payments/checkout")],
    ),
]
# (service, depends on): checkout → payments-api → postgres; api-gateway → payments-api
DEMO_DEPENDENCIES = [
    ("Checkout", "Payments API"),
    ("Payments API", "Postgres"),
    ("API Gateway", "Payments API"),
]


def _ensure_users() -> dict[str, int]:
    ids: dict[str, int] = {}
    with unit_of_work() as uow:
        for email, name, zone in DEMO_USERS:
            user = identity_queries.user_by_email(uow.session, email)
            if user is None:
                user = User(email=email, name=name, time_zone=zone)
                uow.session.add(user)
                uow.session.flush()
            assert user.id is not None
            ids[email] = user.id
    return ids


def seed() -> dict[str, Any]:
    """Create what is missing of the demo organisation; returns what exists."""
    actor = Actor.system("demo-seed")
    user_ids = _ensure_users()
    team_ids: dict[str, int] = {}
    for name, description, org_tags, tech_tags, members in DEMO_TEAMS:
        with unit_of_work() as uow:
            existing = [t for t in team_queries.all_teams(uow.session) if t.name == name]
        if existing and existing[0].id is not None:
            team_id = existing[0].id
        else:
            team_id = teams.create_team(
                actor,
                TeamCreate(
                    name=name, description=description, org_tags=org_tags, tech_tags=tech_tags
                ),
            ).id
        team_ids[name] = team_id
        current = {m.user_id for m in teams.get_team(actor, team_id).members}
        for email, role in members:
            if user_ids[email] not in current:
                teams.add_member(actor, team_id, MemberAdd(user_id=user_ids[email], role=role))
    services = _ensure_services(actor, team_ids)
    schedule_ids = ensure_schedules(actor, user_ids, team_ids)
    service_teams = {services[name]: team for name, team, *_ in DEMO_SERVICES}
    return {
        "users": user_ids,
        "contact_methods": ensure_contact_methods(user_ids),
        "teams": team_ids,
        "services": services,
        "schedules": schedule_ids,
        "escalation_policies": ensure_policies(
            actor, user_ids, team_ids, schedule_ids, service_teams
        ),
        "triage_service_id": catalog.ensure_triage_service(),
        # Secrets are printed again on re-runs (backend/demo/integrations.py).
        "integrations": ensure_integrations(actor, min(services.values())),
    }


def _ensure_services(actor: Actor, team_ids: dict[str, int]) -> dict[str, int]:
    service_ids: dict[str, int] = {}
    for name, team, description, tags, links in DEMO_SERVICES:
        with unit_of_work() as uow:
            existing = catalog_queries.service_by_slug(uow.session, slugify(name))
            existing_id = None if existing is None else existing.id
        if existing_id is None:
            existing_id = catalog.create_service(
                actor,
                ServiceCreate(
                    name=name,
                    team_id=team_ids[team],
                    description=description,
                    tags=tags,
                    links=[ServiceLink(title=t, url=u) for t, u in links],
                ),
            ).id
        service_ids[name] = existing_id
    for dependent, dependency in DEMO_DEPENDENCIES:
        a, b = service_ids[dependent], service_ids[dependency]
        with unit_of_work() as uow:
            present = catalog_queries.dependency_exists(uow.session, a, b)
        if not present:
            catalog.add_dependency(actor, a, b)
    return service_ids
