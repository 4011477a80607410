"""Service catalogue commands: authorization, validation, audit rows, events, the graph."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from backend.audit.models import AuditEntry
from backend.catalog import graph, queries
from backend.catalog import service as catalog
from backend.catalog.errors import (
    DependencyCycle,
    DependencyExists,
    DependencyNotFound,
    ServiceHasDependents,
    ServiceNameTaken,
    ServiceNotFound,
    TriageServiceProtected,
)
from backend.catalog.models import Service, ServiceDependency
from backend.catalog.schemas import ServiceCreate, ServiceLink, ServiceUpdate
from backend.core import events
from backend.core.actor import Actor, PlatformRole
from backend.core.db import unit_of_work
from backend.core.errors import ErrorCode, PermissionDenied, Unauthenticated, ValidationFailed
from backend.core.validation import parse
from backend.demo import seed as demo_seed
from backend.identity.models import User
from backend.teams.models import Team, TeamRole
from tests.factories.escalation import make_policy
from tests.factories.events import RecordingBus
from tests.factories.identity import actor_of, add_member, make_team, make_user


def audit_rows() -> list[tuple[str, str | None, dict[str, Any]]]:
    with unit_of_work() as uow:
        rows = uow.session.exec(
            select(AuditEntry).where(AuditEntry.target_type == "service").order_by(AuditEntry.id)  # type: ignore[arg-type]
        )
        return [(e.action, e.target_id, e.diff) for e in rows]


def table_state() -> tuple[list[tuple[Any, ...]], list[tuple[int, int]]]:
    """Every service row's editable fields and every edge: to prove refusals changed nothing."""
    with unit_of_work() as uow:
        services = [
            (s.id, s.name, s.slug, s.team_id, s.escalation_policy_id, s.tags, s.links)
            for s in uow.session.exec(select(Service).order_by(Service.id))  # type: ignore[arg-type]
        ]
        return services, sorted(queries.all_edges(uow.session))


@pytest.fixture
def people() -> dict[str, User]:
    admin = make_user("Admin")
    team_id = make_team(admin, "Payments")
    found = {"admin": admin}
    for role in (TeamRole.RESPONDER, TeamRole.OBSERVER):
        person = make_user(role.value.title())
        add_member(admin, team_id, person, role)
        found[role.value.lower()] = person
    found["outsider"] = make_user("Outsider")
    found["platform_admin"] = make_user("Root", platform_role=PlatformRole.PLATFORM_ADMIN)
    other_admin = make_user("Other admin")
    make_team(other_admin, "Platform")
    found["other_admin"] = other_admin
    return found


@pytest.fixture
def team_ids(people: dict[str, User]) -> dict[str, int]:
    with unit_of_work() as uow:
        by_name = {t.name: t.id or 0 for t in uow.session.exec(select(Team))}
    return {"payments": by_name["Payments"], "platform": by_name["Platform"]}


def make_service(owner: User, team_id: int, name: str, **kwargs: Any) -> int:
    return catalog.create_service(
        actor_of(owner), ServiceCreate(name=name, team_id=team_id, **kwargs)
    ).id


def test_create_service_returns_the_detail_and_audits(
    people: dict[str, User], team_ids: dict[str, int]
) -> None:
    policy_id = make_policy(team_ids["payments"])
    recorder = RecordingBus()
    events.set_bus(recorder)
    detail = catalog.create_service(
        actor_of(people["admin"]),
        ServiceCreate(
            name="  Payments API ",
            team_id=team_ids["payments"],
            description="Charges cards.",
            tags=["Tier:1", "python", "tier:1"],
            links=[ServiceLink(title="Runbook", url="https://runbooks.example.org/payments")],
            escalation_policy_id=policy_id,
        ),
    )
    assert detail.model_dump(exclude={"id", "created_at", "updated_at"}) == {
        "name": "Payments API",
        "slug": "payments-api",
        "team_id": team_ids["payments"],
        "team_name": "Payments",
        "is_triage": False,
        "description": "Charges cards.",
        "escalation_policy_id": policy_id,
        "tags": ["tier:1", "python"],
        "links": [{"title": "Runbook", "url": "https://runbooks.example.org/payments"}],
        "dependency_count": 0,
        "dependent_count": 0,
        "depends_on": [],
        "dependents": [],
        "can_edit": True,
    }
    assert audit_rows() == [
        (
            "catalog.service.created",
            str(detail.id),
            {
                "after": {
                    "name": "Payments API",
                    "description": "Charges cards.",
                    "team_id": team_ids["payments"],
                    "escalation_policy_id": policy_id,
                    "tags": ["tier:1", "python"],
                    "links": [{"title": "Runbook", "url": "https://runbooks.example.org/payments"}],
                }
            },
        )
    ]
    created = [e for e in recorder.events if e.name == "catalog.service.created"]
    assert [(e.payload, e.topics) for e in created] == [
        ({"service_id": detail.id}, ("services", f"service:{detail.id}"))
    ]


ROLE_ALLOWED = {
    "admin": True,
    "platform_admin": True,
    "responder": False,
    "observer": False,
    "outsider": False,
    "other_admin": False,
}
OPERATIONS: dict[str, Callable[[Actor, int, int], object]] = {
    "create": lambda actor, team_id, _sid: catalog.create_service(
        actor, ServiceCreate(name="New", team_id=team_id)
    ),
    "update": lambda actor, _t, sid: catalog.update_service(actor, sid, ServiceUpdate(name="Zed")),
    "delete": lambda actor, _t, sid: catalog.delete_service(actor, sid + 1),
    "add dependency": lambda actor, _t, sid: catalog.add_dependency(actor, sid, sid + 1),
    "remove dependency": lambda actor, _t, sid: catalog.remove_dependency(actor, sid + 2, sid),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("who", list(ROLE_ALLOWED))
def test_changes_need_team_admin_of_the_owner(
    people: dict[str, User], team_ids: dict[str, int], operation: str, who: str
) -> None:
    catalog.ensure_triage_service()
    team_id = team_ids["payments"]
    sid = make_service(people["admin"], team_id, "Svc A")
    assert make_service(people["admin"], team_id, "Svc B") == sid + 1
    assert make_service(people["admin"], team_id, "Svc C") == sid + 2
    catalog.add_dependency(actor_of(people["admin"]), sid + 2, sid)
    before_state, before_audit = table_state(), audit_rows()
    call = OPERATIONS[operation]
    if ROLE_ALLOWED[who]:
        call(actor_of(people[who]), team_id, sid)
        assert len(audit_rows()) == len(before_audit) + 1
        assert table_state() != before_state
    else:
        with pytest.raises(PermissionDenied) as info:
            call(actor_of(people[who]), team_id, sid)
        assert info.value.code is ErrorCode.PERMISSION_DENIED
        assert (table_state(), audit_rows()) == (before_state, before_audit)


def test_reads_need_a_signed_in_actor(people: dict[str, User], team_ids: dict[str, int]) -> None:
    sid = make_service(people["admin"], team_ids["payments"], "Checkout")
    anonymous = Actor.anonymous()
    for call in (
        lambda: catalog.list_services(anonymous),
        lambda: catalog.get_service(anonymous, sid),
        lambda: catalog.get_impact(anonymous, sid),
        lambda: catalog.create_service(
            anonymous, ServiceCreate(name="X1", team_id=team_ids["payments"])
        ),
    ):
        with pytest.raises(Unauthenticated):
            call()
    # Any signed-in user reads the catalogue; only editors see can_edit.
    assert catalog.get_service(actor_of(people["outsider"]), sid).can_edit is False
    assert catalog.get_service(actor_of(people["admin"]), sid).can_edit is True
    assert [s.name for s in catalog.list_services(actor_of(people["outsider"]))] == ["Checkout"]


def test_owner_team_must_exist(people: dict[str, User]) -> None:
    with pytest.raises(ValidationFailed) as info:
        catalog.create_service(
            actor_of(people["platform_admin"]), ServiceCreate(name="Ghost", team_id=999)
        )
    assert [e.as_dict() for e in info.value.errors] == [
        {"loc": ["body", "team_id"], "msg": "team 999 does not exist", "type": "value_error"}
    ]
    assert table_state() == ([], [])
    assert audit_rows() == []


def test_duplicate_names_and_reserved_names_are_refused(
    people: dict[str, User], team_ids: dict[str, int]
) -> None:
    admin = actor_of(people["admin"])
    make_service(people["admin"], team_ids["payments"], "Checkout")
    before = table_state()
    for name in ("Checkout", "checkout!"):  # same name, or the same slug
        with pytest.raises(ServiceNameTaken) as taken:
            catalog.create_service(admin, ServiceCreate(name=name, team_id=team_ids["payments"]))
        assert taken.value.code is ErrorCode.ALREADY_EXISTS
    with pytest.raises(ValidationFailed) as reserved:
        catalog.create_service(
            admin, ServiceCreate(name="Platform Triage", team_id=team_ids["payments"])
        )
    assert [e.loc for e in reserved.value.errors] == [("body", "name")]
    assert table_state() == before
    assert [a for a, _, _ in audit_rows()] == ["catalog.service.created"]


@pytest.mark.parametrize(
    ("_case", "payload", "bad_fields"),
    [
        ("javascript link", {"links": [{"title": "x", "url": "javascript:alert(1)"}]}, ["url"]),
        ("ftp link", {"links": [{"title": "x", "url": "ftp://example.org/a"}]}, ["url"]),
        ("relative link", {"links": [{"title": "x", "url": "/runbook"}]}, ["url"]),
        ("no host", {"links": [{"title": "x", "url": "https://"}]}, ["url"]),
        ("space in url", {"links": [{"title": "x", "url": "https://a b.org"}]}, ["url"]),
        ("empty title", {"links": [{"title": " ", "url": "https://a.org"}]}, ["title"]),
        ("bad tag", {"tags": ["Has Space"]}, ["tags"]),
        ("too many tags", {"tags": [f"t{i}" for i in range(21)]}, ["tags"]),
        ("no letters", {"name": "--"}, ["name"]),
        ("unknown field", {"colour": "red"}, ["colour"]),
        ("bad policy id", {"escalation_policy_id": 0}, ["escalation_policy_id"]),
    ],
)
def test_invalid_input_is_a_field_error(
    _case: str, payload: dict[str, Any], bad_fields: list[str]
) -> None:
    data = {"name": "Checkout", "team_id": 1, **payload}
    with pytest.raises(ValidationFailed) as info:
        parse(ServiceCreate, data)
    assert [str(e.loc[-1]) for e in info.value.errors] == bad_fields
    assert info.value.code is ErrorCode.VALIDATION_FAILED


def test_update_changes_only_what_is_sent(
    people: dict[str, User], team_ids: dict[str, int]
) -> None:
    admin = actor_of(people["admin"])
    policy_id = make_policy(team_ids["payments"])
    sid = make_service(
        people["admin"], team_ids["payments"], "Checkout", escalation_policy_id=policy_id
    )
    detail = catalog.update_service(
        admin,
        sid,
        parse(
            ServiceUpdate, {"name": "Checkout Web", "tags": ["web"], "escalation_policy_id": None}
        ),
    )
    assert (detail.name, detail.slug, detail.tags, detail.escalation_policy_id) == (
        "Checkout Web",
        "checkout-web",
        ["web"],
        None,
    )
    assert detail.description == ""
    assert audit_rows()[-1] == (
        "catalog.service.updated",
        str(sid),
        {
            "escalation_policy_id": [policy_id, None],
            "name": ["Checkout", "Checkout Web"],
            "tags": [[], ["web"]],
        },
    )
    # Nothing to change: no audit row.
    count = len(audit_rows())
    catalog.update_service(admin, sid, ServiceUpdate(name="Checkout Web"))
    assert len(audit_rows()) == count
    # Explicit nulls on required fields are field errors.
    with pytest.raises(ValidationFailed) as info:
        parse(ServiceUpdate, {"name": None, "tags": None})
    assert [e.loc for e in info.value.errors] == [("body", "name"), ("body", "tags")]
    with pytest.raises(ValidationFailed) as no_owner:
        catalog.update_service(admin, sid, parse(ServiceUpdate, {"team_id": None}))
    assert [e.loc for e in no_owner.value.errors] == [("body", "team_id")]


def test_moving_a_service_needs_admin_of_both_teams(
    people: dict[str, User], team_ids: dict[str, int]
) -> None:
    sid = make_service(people["admin"], team_ids["payments"], "Checkout")
    before = table_state()
    with pytest.raises(PermissionDenied):
        catalog.update_service(
            actor_of(people["admin"]), sid, ServiceUpdate(team_id=team_ids["platform"])
        )
    with pytest.raises(PermissionDenied):
        catalog.update_service(
            actor_of(people["other_admin"]), sid, ServiceUpdate(team_id=team_ids["platform"])
        )
    with pytest.raises(ValidationFailed):
        catalog.update_service(actor_of(people["admin"]), sid, ServiceUpdate(team_id=999))
    assert table_state() == before
    add_member(people["other_admin"], team_ids["platform"], people["admin"], TeamRole.TEAM_ADMIN)
    moved = catalog.update_service(
        actor_of(people["admin"]), sid, ServiceUpdate(team_id=team_ids["platform"])
    )
    assert (moved.team_id, moved.team_name) == (team_ids["platform"], "Platform")


def test_list_filters(people: dict[str, User], team_ids: dict[str, int]) -> None:
    make_service(people["admin"], team_ids["payments"], "Checkout", tags=["web", "tier:1"])
    make_service(people["admin"], team_ids["payments"], "Payments API", description="Charges cards")
    make_service(people["other_admin"], team_ids["platform"], "Postgres", tags=["tier:1"])
    catalog.ensure_triage_service()
    actor = actor_of(people["outsider"])

    def names(**kwargs: Any) -> list[str]:
        return [s.name for s in catalog.list_services(actor, **kwargs)]

    assert names() == ["Checkout", "Payments API", "Platform triage", "Postgres"]
    assert names(team_id=team_ids["payments"]) == ["Checkout", "Payments API"]
    assert names(tag="TIER:1") == ["Checkout", "Postgres"]
    assert names(text="card") == ["Payments API"]
    assert names(text="payments-") == ["Payments API"]
    assert names(text="  post ") == ["Postgres"]
    assert names(team_id=team_ids["platform"], tag="web") == []


def test_triage_service_is_idempotent_and_protected(people: dict[str, User]) -> None:
    first = catalog.ensure_triage_service()
    assert catalog.ensure_triage_service() == first
    with unit_of_work() as uow:
        triage = queries.triage_service(uow.session)
        assert triage is not None
        assert (triage.id, triage.name, triage.slug, triage.team_id, triage.is_triage) == (
            first,
            "Platform triage",
            "platform-triage",
            None,
            True,
        )
    assert audit_rows() == [
        (
            "catalog.service.created",
            str(first),
            {
                "after": {
                    "name": "Platform triage",
                    "description": catalog.TRIAGE_DESCRIPTION,
                    "team_id": None,
                    "escalation_policy_id": None,
                    "tags": [],
                    "links": [],
                }
            },
        )
    ]
    before = table_state()
    with pytest.raises(PermissionDenied):
        catalog.update_service(actor_of(people["admin"]), first, ServiceUpdate(description="x"))
    with pytest.raises(PermissionDenied):
        catalog.delete_service(actor_of(people["admin"]), first)
    with pytest.raises(TriageServiceProtected) as protected:
        catalog.delete_service(actor_of(people["platform_admin"]), first)
    assert protected.value.code is ErrorCode.CONFLICT
    assert table_state() == before
    root = actor_of(people["platform_admin"])
    # The triage service may use any team's policy.
    policy_id = make_policy(make_team(people["admin"], "Any team"))
    edited = catalog.update_service(root, first, ServiceUpdate(escalation_policy_id=policy_id))
    assert (edited.escalation_policy_id, edited.can_edit, edited.is_triage) == (
        policy_id,
        True,
        True,
    )
    assert catalog.get_service(actor_of(people["admin"]), first).can_edit is False


def test_triage_service_under_concurrent_calls() -> None:
    results: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        try:
            results.append(catalog.ensure_triage_service())
        except BaseException as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 8
    assert len(set(results)) == 1
    with unit_of_work() as uow:
        assert len(list(uow.session.exec(select(Service).where(Service.is_triage)))) == 1
    assert [a for a, _, _ in audit_rows()] == ["catalog.service.created"]


@pytest.fixture
def chain(people: dict[str, User], team_ids: dict[str, int]) -> dict[str, int]:
    """checkout → payments-api → postgres; api-gateway → payments-api."""
    admin, platform = people["admin"], people["other_admin"]
    ids = {
        "checkout": make_service(admin, team_ids["payments"], "Checkout"),
        "payments-api": make_service(admin, team_ids["payments"], "Payments API"),
        "postgres": make_service(platform, team_ids["platform"], "Postgres"),
        "api-gateway": make_service(platform, team_ids["platform"], "API Gateway"),
    }
    catalog.add_dependency(actor_of(admin), ids["checkout"], ids["payments-api"])
    catalog.add_dependency(actor_of(admin), ids["payments-api"], ids["postgres"])
    catalog.add_dependency(actor_of(platform), ids["api-gateway"], ids["payments-api"])
    return ids


def test_dependencies_show_on_both_sides(people: dict[str, User], chain: dict[str, int]) -> None:
    detail = catalog.get_service(actor_of(people["outsider"]), chain["payments-api"])
    assert [r.name for r in detail.depends_on] == ["Postgres"]
    assert [r.name for r in detail.dependents] == ["API Gateway", "Checkout"]
    assert (detail.dependency_count, detail.dependent_count) == (1, 2)
    listed = {
        s.name: (s.dependency_count, s.dependent_count)
        for s in catalog.list_services(actor_of(people["outsider"]))
    }
    assert listed == {
        "API Gateway": (1, 0),
        "Checkout": (1, 0),
        "Payments API": (1, 2),
        "Platform triage": (0, 0),
        "Postgres": (0, 1),
    }
    added = [row for row in audit_rows() if row[0] == "catalog.dependency.added"]
    assert added[0] == (
        "catalog.dependency.added",
        str(chain["checkout"]),
        {"depends_on_id": chain["payments-api"], "depends_on": "Payments API"},
    )


def test_impact_upstream_and_downstream_with_depth(
    people: dict[str, User], chain: dict[str, int]
) -> None:
    actor = actor_of(people["outsider"])
    impact = catalog.get_impact(actor, chain["postgres"])
    assert [(n.name, n.depth) for n in impact.upstream] == []
    assert [(n.name, n.depth) for n in impact.downstream] == [
        ("Payments API", 1),
        ("API Gateway", 2),
        ("Checkout", 2),
    ]
    assert impact.layers == [
        [chain["postgres"]],
        [chain["payments-api"]],
        sorted([chain["checkout"], chain["api-gateway"]]),
    ]
    assert len(impact.edges) == 3
    checkout = catalog.get_impact(actor, chain["checkout"])
    assert [(n.name, n.depth, n.team_name) for n in checkout.upstream] == [
        ("Payments API", 1, "Payments"),
        ("Postgres", 2, "Platform"),
    ]
    assert checkout.downstream == []
    # The gateway is not in checkout's impact: it neither depends on nor supports checkout.
    assert {(e.service_id, e.depends_on_id) for e in checkout.edges} == {
        (chain["checkout"], chain["payments-api"]),
        (chain["payments-api"], chain["postgres"]),
    }
    shallow = catalog.get_impact(actor, chain["postgres"], max_depth=1)
    assert [n.name for n in shallow.downstream] == ["Payments API"]
    with pytest.raises(ServiceNotFound):
        catalog.get_impact(actor, 999)


def test_cycle_is_refused_with_the_path(people: dict[str, User], chain: dict[str, int]) -> None:
    recorder = RecordingBus()
    events.set_bus(recorder)
    before, before_audit = table_state(), audit_rows()
    with pytest.raises(DependencyCycle) as info:
        catalog.add_dependency(
            actor_of(people["other_admin"]), chain["postgres"], chain["checkout"]
        )
    assert info.value.code is ErrorCode.DEPENDENCY_CYCLE
    assert info.value.status == 409
    assert info.value.detail == (
        "Adding this dependency would create a cycle: "
        "Postgres → Checkout → Payments API → Postgres."
    )
    assert (table_state(), audit_rows()) == (before, before_audit)
    assert recorder.events == []


def test_self_duplicate_unknown_and_triage_edges_are_refused(
    people: dict[str, User], chain: dict[str, int]
) -> None:
    admin = actor_of(people["admin"])
    triage = catalog.ensure_triage_service()
    before, before_audit = table_state(), audit_rows()
    with pytest.raises(ValidationFailed) as self_dep:
        catalog.add_dependency(admin, chain["checkout"], chain["checkout"])
    assert [e.as_dict() for e in self_dep.value.errors] == [
        {
            "loc": ["path", "depends_on_id"],
            "msg": "a service cannot depend on itself",
            "type": "value_error",
        }
    ]
    with pytest.raises(DependencyExists) as duplicate:
        catalog.add_dependency(admin, chain["checkout"], chain["payments-api"])
    assert duplicate.value.code is ErrorCode.ALREADY_EXISTS
    with pytest.raises(ServiceNotFound):
        catalog.add_dependency(admin, chain["checkout"], 999)
    with pytest.raises(ServiceNotFound):
        catalog.add_dependency(admin, 999, chain["checkout"])
    with pytest.raises(ValidationFailed):
        catalog.add_dependency(admin, chain["checkout"], triage)
    with pytest.raises(DependencyNotFound):
        catalog.remove_dependency(admin, chain["checkout"], chain["postgres"])
    assert (table_state(), audit_rows()) == (before, before_audit)


def test_remove_dependency(people: dict[str, User], chain: dict[str, int]) -> None:
    recorder = RecordingBus()
    events.set_bus(recorder)
    detail = catalog.remove_dependency(
        actor_of(people["admin"]), chain["checkout"], chain["payments-api"]
    )
    assert detail.depends_on == []
    assert audit_rows()[-1] == (
        "catalog.dependency.removed",
        str(chain["checkout"]),
        {"depends_on_id": chain["payments-api"], "depends_on": "Payments API"},
    )
    removed = [e for e in recorder.events if e.name == "catalog.dependency.removed"]
    assert [e.topics for e in removed] == [
        ("services", f"service:{chain['checkout']}", f"service:{chain['payments-api']}")
    ]
    # Now the reverse edge is no longer a cycle.
    catalog.add_dependency(actor_of(people["other_admin"]), chain["postgres"], chain["checkout"])


def test_delete_is_refused_while_others_depend(
    people: dict[str, User], team_ids: dict[str, int], chain: dict[str, int]
) -> None:
    before, before_audit = table_state(), audit_rows()
    with pytest.raises(ServiceHasDependents) as info:
        catalog.delete_service(actor_of(people["admin"]), chain["payments-api"])
    assert info.value.code is ErrorCode.SERVICE_HAS_DEPENDENTS
    assert info.value.detail == (
        "'Payments API' cannot be deleted while these services depend on it: "
        "API Gateway, Checkout. Remove those dependencies first."
    )
    assert (table_state(), audit_rows()) == (before, before_audit)
    # A service nobody depends on goes, taking the dependencies it declared with it.
    catalog.delete_service(actor_of(people["admin"]), chain["checkout"])
    assert audit_rows()[-1] == (
        "catalog.service.deleted",
        str(chain["checkout"]),
        {
            "before": {
                "name": "Checkout",
                "description": "",
                "team_id": team_ids["payments"],
                "escalation_policy_id": None,
                "tags": [],
                "links": [],
                "depends_on": ["Payments API"],
            }
        },
    )
    with unit_of_work() as uow:
        assert uow.session.get(Service, chain["checkout"]) is None
        assert (
            list(
                uow.session.exec(
                    select(ServiceDependency).where(
                        ServiceDependency.service_id == chain["checkout"]
                    )
                )
            )
            == []
        )
    with pytest.raises(ServiceNotFound):
        catalog.get_service(actor_of(people["admin"]), chain["checkout"])


def test_concurrent_opposite_edges_never_make_a_cycle(
    people: dict[str, User], team_ids: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = people["admin"]
    ids = [make_service(admin, team_ids["payments"], f"Ring {i}") for i in range(3)]
    catalog.add_dependency(actor_of(admin), ids[0], ids[1])
    # Each of these closes a cycle with the first edge plus the other one. Both checks are
    # held open until the other has run too (or a second has passed): without the graph lock
    # both would see "no cycle" and both would insert.
    attempts = [(ids[1], ids[2]), (ids[2], ids[0])]
    checked = threading.Barrier(len(attempts))
    real_check = graph.cycle_if_added

    def slow_check(edges: list[graph.Edge], a: int, b: int) -> list[int] | None:
        result = real_check(edges, a, b)
        with contextlib.suppress(threading.BrokenBarrierError):
            checked.wait(timeout=1)
        return result

    monkeypatch.setattr(graph, "cycle_if_added", slow_check)

    outcomes: list[str] = []

    def worker(edge: tuple[int, int]) -> None:
        try:
            catalog.add_dependency(actor_of(admin), *edge)
            outcomes.append("added")
        except DependencyCycle:
            outcomes.append("cycle")

    threads = [threading.Thread(target=worker, args=(edge,)) for edge in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["added", "cycle"]
    _, edges = table_state()
    assert len(edges) == 2
    assert graph.is_acyclic(edges)


def test_demo_seed_adds_services_and_dependencies_idempotently() -> None:
    first = demo_seed.seed()
    second = demo_seed.seed()
    assert first == second
    ids = first["services"]
    assert sorted(ids) == ["API Gateway", "Checkout", "Payments API", "Postgres"]
    _, edges = table_state()
    assert edges == sorted(
        [
            (ids["Checkout"], ids["Payments API"]),
            (ids["Payments API"], ids["Postgres"]),
            (ids["API Gateway"], ids["Payments API"]),
        ]
    )
    impact = catalog.get_impact(Actor.cli(), ids["Postgres"])
    assert [(n.name, n.depth, n.team_name) for n in impact.downstream] == [
        ("Payments API", 1, "Payments"),
        ("API Gateway", 2, "Platform"),
        ("Checkout", 2, "Payments"),
    ]
    assert first["triage_service_id"] == catalog.ensure_triage_service()
