"""Escalation policy commands (ROUTE-01) and the paging preview (ROUTE-03)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlmodel import select

from backend.audit.models import AuditEntry
from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceCreate, ServiceUpdate
from backend.core.db import unit_of_work
from backend.core.errors import DomainError, ErrorCode
from backend.escalation import preview
from backend.escalation import service as policies
from backend.escalation.policy import TargetKind
from backend.escalation.schemas import LevelIn, PolicyCreate, PolicyUpdate, TargetIn
from backend.incidents import service as incidents
from backend.ingest import integrations
from backend.ingest.models import IntegrationType
from backend.ingest.schemas import IntegrationCreate
from backend.schedules import service as schedules
from backend.schedules.schemas import ScheduleCreate
from tests.factories.identity import actor_of
from tests.factories.ingest import send_generic
from tests.factories.schedules import Crew, make_crew, make_schedule

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def level(*targets: tuple[TargetKind, int], timeout: int = 30) -> LevelIn:
    return LevelIn(timeout_minutes=timeout, targets=[TargetIn(type=k, id=i) for k, i in targets])


def create(crew: Crew, name: str, **kwargs: object) -> int:
    data = PolicyCreate(
        team_id=crew.team_id,
        name=name,
        levels=kwargs.pop("levels", [level((TargetKind.USER, crew.id("ann")))]),  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )
    return policies.create_policy(actor_of(crew.admin), data).id


def defaults(crew: Crew) -> list[tuple[str, bool]]:
    return [
        (p.name, p.is_default)
        for p in policies.list_policies(actor_of(crew.ann), team_id=crew.team_id)
    ]


def test_first_policy_is_default_and_moving_the_default_is_one_transaction() -> None:
    crew = make_crew()
    first = create(crew, "A")
    second = create(crew, "B")
    assert defaults(crew) == [("A", True), ("B", False)]
    policies.update_policy(actor_of(crew.admin), second, PolicyUpdate(is_default=True))
    assert defaults(crew) == [("A", False), ("B", True)]
    with pytest.raises(DomainError) as caught:
        policies.update_policy(actor_of(crew.admin), second, PolicyUpdate(is_default=False))
    assert caught.value.code is ErrorCode.VALIDATION_FAILED
    policies.delete_policy(actor_of(crew.admin), second)
    assert defaults(crew) == [("A", True)]
    with unit_of_work() as uow:
        actions = uow.session.exec(
            select(AuditEntry.action).where(AuditEntry.target_type == "escalation_policy")
        ).all()
    assert actions == [
        "escalation.policy.created",
        "escalation.policy.created",
        "escalation.policy.updated",
        "escalation.policy.deleted",
    ]
    assert first > 0


@pytest.mark.parametrize(
    ("_case", "who", "levels", "code"),
    [
        ("responder may not", "ann", None, ErrorCode.PERMISSION_DENIED),
        ("outsider user target", "admin", [("user", "outsider")], ErrorCode.VALIDATION_FAILED),
        (
            "another team's schedule",
            "admin",
            [("schedule", "foreign")],
            ErrorCode.VALIDATION_FAILED,
        ),
    ],
)
def test_only_team_admins_and_only_the_teams_targets(
    _case: str, who: str, levels: list[tuple[str, str]] | None, code: ErrorCode
) -> None:
    crew = make_crew()
    foreign = make_schedule(make_crew("Other"))
    ids = {"outsider": crew.id("outsider"), "foreign": foreign}
    chosen = (
        [level((TargetKind(kind), ids[name])) for kind, name in levels]
        if levels
        else [level((TargetKind.USER, crew.id("ann")))]
    )
    with pytest.raises(DomainError) as caught:
        policies.create_policy(
            actor_of(getattr(crew, who)),
            PolicyCreate(team_id=crew.team_id, name="P", levels=chosen),
        )
    assert caught.value.code is code
    assert policies.list_policies(actor_of(crew.ann)) == []


def test_deleting_a_policy_an_active_incident_uses_is_409_until_it_is_resolved() -> None:
    crew = make_crew()
    policy_id = create(crew, "P")
    service_id = catalog.create_service(
        actor_of(crew.admin),
        ServiceCreate(name="Db", team_id=crew.team_id, escalation_policy_id=policy_id),
    ).id
    created = integrations.create_integration(
        actor_of(crew.admin),
        IntegrationCreate(name="G", type=IntegrationType.GENERIC, service_id=service_id),
    )
    incident_id = send_generic(created, {"title": "t", "dedup_key": "k"}).alerts[0].incident_id
    assert incident_id is not None
    with pytest.raises(DomainError) as caught:
        policies.delete_policy(actor_of(crew.admin), policy_id)
    assert (caught.value.code, caught.value.extra) == (
        ErrorCode.POLICY_IN_USE,
        {"incident_ids": [incident_id]},
    )
    incidents.resolve(actor_of(crew.ann), incident_id)
    policies.delete_policy(actor_of(crew.admin), policy_id)
    assert catalog.get_service(actor_of(crew.ann), service_id).escalation_policy_id is None
    with pytest.raises(DomainError) as refused:
        catalog.update_service(
            actor_of(crew.admin), service_id, ServiceUpdate(escalation_policy_id=policy_id)
        )
    assert refused.value.code is ErrorCode.VALIDATION_FAILED


def test_preview_shows_who_is_paged_at_which_minute_with_warnings() -> None:
    crew = make_crew()
    schedule_id = make_schedule(crew)
    gap = make_schedule_with_nobody(crew)
    policy_id = create(
        crew,
        "P",
        repeat=1,
        levels=[
            level((TargetKind.SCHEDULE, schedule_id), timeout=5),
            level((TargetKind.SCHEDULE, gap), timeout=10),
        ],
    )
    service_id = catalog.create_service(
        actor_of(crew.admin),
        ServiceCreate(name="Db", team_id=crew.team_id, escalation_policy_id=policy_id),
    ).id
    with time_machine.travel(T0, tick=False):
        got = preview.preview_paging(actor_of(crew.ann), service_id)
    assert (got.policy_name, got.policy_source, got.exhausted_after_minutes) == (
        "P",
        "the service's policy",
        30.0,
    )
    assert [(s.minute, s.level, s.repeat, [p.user_name for p in s.pages]) for s in got.steps] == [
        (0.0, 1, 0, ["Cat"]),
        (5.0, 2, 0, []),
        (15.0, 1, 1, ["Cat"]),
        (20.0, 2, 1, []),
    ]
    assert got.warnings == [
        "level 1: Cat has no verified contact method: nobody can notify them",
        "level 2: nobody is on call in 'Empty'",
        "level 2: this level pages nobody",
    ]
    assert got.steps[0].pages[0].channels == []  # Cat has no verified contact method
    assert "notifications" in got.notes[0]


def make_schedule_with_nobody(crew: Crew) -> int:
    return schedules.create_schedule(
        actor_of(crew.admin), ScheduleCreate(team_id=crew.team_id, name="Empty", time_zone="UTC")
    ).id
