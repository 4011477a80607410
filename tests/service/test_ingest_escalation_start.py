"""Which policy a new incident opened by an alert escalates with, and what it records: the
service's own policy, else (without a team default) the triage service's. Also run on
PostgreSQL, where the one-statement path does the same (tests/integration/test_ingest_on_pg.py)."""

from __future__ import annotations

from dramatiq.brokers.stub import StubBroker

from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceCreate, ServiceUpdate
from backend.core.db import unit_of_work
from backend.escalation.policy import TargetKind
from backend.incidents import timeline
from backend.incidents.models import EscalationState, Incident, IncidentEventKind
from backend.teams import service as teams
from backend.teams.models import TeamRole
from backend.teams.schemas import MemberAdd, TeamCreate
from tests.factories.escalation import drain_steps, make_policy
from tests.factories.identity import make_user
from tests.factories.ingest import ADMIN, make_integration, send_generic


def _team(name: str) -> int:
    return teams.create_team(ADMIN, TeamCreate(name=name)).id


def _service(name: str, team_id: int, policy_id: int | None = None) -> int:
    created = catalog.create_service(ADMIN, ServiceCreate(name=name, team_id=team_id))
    if policy_id is not None:
        catalog.update_service(ADMIN, created.id, ServiceUpdate(escalation_policy_id=policy_id))
    return created.id


def _escalation(incident_id: int) -> tuple[Incident, list[tuple[IncidentEventKind, str, dict]]]:  # type: ignore[type-arg]
    with unit_of_work() as uow:
        incident = uow.session.get(Incident, incident_id)
        assert incident is not None
        lines = timeline.entries(uow.session, incident_id)
    return incident, [(e.kind, e.summary, e.data) for e in lines]


def _open(service_id: int) -> int:
    created = make_integration(service_id=service_id)
    result = send_generic(created, {"title": "Checkout down", "dedup_key": "checkout"})
    incident_id = result.alerts[0].incident_id
    assert incident_id is not None
    return incident_id


def test_the_services_own_policy_is_snapshotted_and_its_first_step_sent(
    stub_broker: StubBroker,
) -> None:
    owner_team = _team("Payments")
    first, second = make_user("First"), make_user("Second")
    assert first.id is not None
    assert second.id is not None
    for user_id in (first.id, second.id):
        teams.add_member(ADMIN, owner_team, MemberAdd(user_id=user_id, role=TeamRole.RESPONDER))
    make_policy(owner_team, "Team default")  # the team's first policy: its default
    policy_id = make_policy(
        owner_team,
        "Payments primary",
        levels=[[(TargetKind.USER, first.id)], [(TargetKind.USER, second.id)]],
        timeouts=[5, 10],
        repeat=2,
    )
    service_id = _service("Checkout", owner_team, policy_id)
    incident_id = _open(service_id)
    incident, lines = _escalation(incident_id)
    assert incident.escalation_policy_id == policy_id
    assert incident.escalation_state is EscalationState.ACTIVE
    assert incident.escalation_step == 0
    assert incident.escalation_snapshot == {
        "policy_id": policy_id,
        "policy_name": "Payments primary",
        "repeat": 2,
        "levels": [
            {"timeout_minutes": 5, "targets": [{"type": "user", "id": first.id}]},
            {"timeout_minutes": 10, "targets": [{"type": "user", "id": second.id}]},
        ],
    }
    assert lines[-1] == (
        IncidentEventKind.ESCALATION_STARTED,
        "Escalating with 'Payments primary' (the service's policy).",
        {"policy_id": policy_id, "levels": 2, "repeat": 2},
    )
    steps = drain_steps(stub_broker)
    assert [(s.incident_id, s.token, s.step) for s in steps] == [
        (incident_id, incident.escalation_token, 0)
    ]


def test_without_a_team_default_the_triage_services_policy_applies(
    stub_broker: StubBroker,
) -> None:
    platform_team = _team("Platform")
    policy_id = make_policy(platform_team, "Catch-all")
    triage_id = catalog.ensure_triage_service()
    catalog.update_service(ADMIN, triage_id, ServiceUpdate(escalation_policy_id=policy_id))
    service_id = _service("Search", _team("Discovery"))  # its team has no policy at all
    incident_id = _open(service_id)
    incident, lines = _escalation(incident_id)
    assert incident.escalation_policy_id == policy_id
    assert lines[-1][:2] == (
        IncidentEventKind.ESCALATION_STARTED,
        "Escalating with 'Catch-all' (the triage service's policy (no team policy applies)).",
    )
    assert [s.incident_id for s in drain_steps(stub_broker)] == [incident_id]


def test_the_timeline_of_an_opened_incident_in_order() -> None:
    service_id = _service("Billing", _team("Finance"))  # no policy anywhere
    incident_id = _open(service_id)
    incident, lines = _escalation(incident_id)
    assert incident.escalation_state is EscalationState.NONE
    assert incident.escalation_token is None
    label = "integration:generic source"
    assert [(kind, summary) for kind, summary, _ in lines] == [
        (IncidentEventKind.OPENED, f"Opened by {label}."),
        (IncidentEventKind.ALERT, f"Opening alert from {label}."),
        (
            IncidentEventKind.NOT_ESCALATED,
            "No escalation policy applies (service, team default or triage): nobody is paged.",
        ),
    ]
    assert lines[1][2].keys() == {"alert_id"}
