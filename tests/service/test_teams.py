"""Team commands through the services: authorization by role, audit rows, events, health."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import select

from backend.audit.models import AuditEntry
from backend.core import events
from backend.core.actor import Actor, PlatformRole
from backend.core.db import unit_of_work
from backend.core.errors import ErrorCode, PermissionDenied, Unauthenticated, ValidationFailed
from backend.core.validation import parse
from backend.identity.models import User
from backend.teams import service as teams
from backend.teams.errors import AlreadyMember, LastTeamAdmin, TeamNameTaken
from backend.teams.models import Team, TeamMembership, TeamRole
from backend.teams.schemas import MemberAdd, TeamCreate, TeamUpdate
from tests.factories.events import RecordingBus
from tests.factories.identity import actor_of, add_member, make_team, make_user


def audit_actions() -> list[str]:
    with unit_of_work() as uow:
        return [e.action for e in uow.session.exec(select(AuditEntry).order_by(AuditEntry.id))]


def memberships(team_id: int) -> dict[int, str]:
    with unit_of_work() as uow:
        rows = uow.session.exec(select(TeamMembership).where(TeamMembership.team_id == team_id))
        return {m.user_id: TeamRole(m.role).value for m in rows}


@pytest.fixture
def team_with_roles() -> tuple[int, dict[str, User]]:
    admin = make_user("Admin")
    people = {"admin": admin}
    team_id = make_team(admin, "Payments")
    for role in (TeamRole.RESPONDER, TeamRole.OBSERVER):
        person = make_user(role.value.title())
        add_member(admin, team_id, person, role)
        people[role.value.lower()] = person
    people["outsider"] = make_user("Outsider")
    people["platform_admin"] = make_user("Root", platform_role=PlatformRole.PLATFORM_ADMIN)
    return team_id, people


OPERATIONS: dict[str, Callable[[Actor, int, User], object]] = {
    "edit": lambda actor, team_id, _t: teams.update_team(actor, team_id, TeamUpdate(name="New")),
    "add member": lambda actor, team_id, target: teams.add_member(
        actor, team_id, MemberAdd(user_id=target.id or 0, role=TeamRole.OBSERVER)
    ),
    "delete": lambda actor, team_id, _t: teams.delete_team(actor, team_id),
}
ALLOWED = {
    "admin": True,
    "platform_admin": True,
    "responder": False,
    "observer": False,
    "outsider": False,
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("who", list(ALLOWED))
def test_team_admin_operations_by_role(
    team_with_roles: tuple[int, dict[str, User]], operation: str, who: str
) -> None:
    team_id, people = team_with_roles
    target = make_user("Target")
    before_members, before_audit = memberships(team_id), audit_actions()
    call = OPERATIONS[operation]
    if ALLOWED[who]:
        call(actor_of(people[who]), team_id, target)
        assert len(audit_actions()) == len(before_audit) + 1
    else:
        with pytest.raises(PermissionDenied) as info:
            call(actor_of(people[who]), team_id, target)
        assert info.value.code is ErrorCode.PERMISSION_DENIED
        assert memberships(team_id) == before_members
        assert audit_actions() == before_audit
        with unit_of_work() as uow:
            assert uow.session.get(Team, team_id).name == "Payments"  # type: ignore[union-attr]


@pytest.mark.parametrize("who", ["responder", "observer", "outsider", "admin"])
def test_every_signed_in_user_can_view_teams(
    team_with_roles: tuple[int, dict[str, User]], who: str
) -> None:
    team_id, people = team_with_roles
    detail = teams.get_team(actor_of(people[who]), team_id)
    assert [m.role.value for m in detail.members] == ["TEAM_ADMIN", "OBSERVER", "RESPONDER"]
    assert [t.name for t in teams.list_teams(actor_of(people[who]))] == ["Payments"]


def test_anonymous_cannot_read_or_write(team_with_roles: tuple[int, dict[str, User]]) -> None:
    team_id, _ = team_with_roles
    anonymous = Actor.anonymous()
    with pytest.raises(Unauthenticated):
        teams.list_teams(anonymous)
    with pytest.raises(Unauthenticated):
        teams.create_team(anonymous, TeamCreate(name="X team"))
    with pytest.raises(Unauthenticated):
        teams.update_team(anonymous, team_id, TeamUpdate(name="Y team"))


def test_create_writes_audit_row_and_publishes_event_after_commit() -> None:
    recorder = RecordingBus()
    events.set_bus(recorder)
    owner = make_user("Owner", email="owner@example.org")
    team_id = make_team(owner, "Search", org_tags=["org:eng"], tech_tags=["Elastic"])
    assert recorder.names() == ["audit.entry.created", "teams.team.created"]
    assert recorder.events[1].topics == ("teams", f"team:{team_id}")
    assert recorder.events[1].payload == {"team_id": team_id}
    assert recorder.events[1].actor_label == "owner@example.org"
    with unit_of_work() as uow:
        entry = uow.session.exec(select(AuditEntry)).one()
    assert entry.action == "teams.team.created"
    assert (entry.actor_type, entry.actor_id, entry.actor_label) == (
        "user",
        owner.id,
        "owner@example.org",
    )
    assert (entry.target_type, entry.target_id, entry.target_label) == (
        "team",
        str(team_id),
        "Search",
    )
    assert (entry.ip, entry.user_agent, entry.severity) == ("127.0.0.1", "pytest", "MEDIUM")
    assert entry.diff == {
        "after": {
            "name": "Search",
            "description": "",
            "org_tags": ["org:eng"],
            "tech_tags": ["elastic"],
            "required_channels": [],
        }
    }


def test_every_mutation_writes_exactly_one_audit_row() -> None:
    admin, bob, carol = make_user("Admin"), make_user("Bob"), make_user("Carol")
    actor = actor_of(admin)
    team_id = make_team(admin, "Core")
    teams.update_team(actor, team_id, TeamUpdate(description="The core", tech_tags=["go"]))
    teams.add_member(actor, team_id, MemberAdd(user_id=bob.id or 0, role=TeamRole.RESPONDER))
    teams.add_member(actor, team_id, MemberAdd(user_id=carol.id or 0, role=TeamRole.OBSERVER))
    teams.change_role(actor, team_id, bob.id or 0, TeamRole.TEAM_ADMIN)
    teams.remove_member(actor, team_id, carol.id or 0)
    teams.remove_member(actor_of(bob), team_id, bob.id or 0)  # bob leaves
    teams.delete_team(actor, team_id)
    assert audit_actions() == [
        "teams.team.created",
        "teams.team.updated",
        "teams.member.added",
        "teams.member.added",
        "teams.member.role_changed",
        "teams.member.removed",
        "teams.member.left",
        "teams.team.deleted",
    ]


def test_update_records_a_field_diff() -> None:
    admin = make_user("Admin")
    team_id = make_team(admin, "Core", tech_tags=["go"])
    teams.update_team(actor_of(admin), team_id, TeamUpdate(name="Core Infra", tech_tags=["rust"]))
    with unit_of_work() as uow:
        entry = uow.session.exec(
            select(AuditEntry).where(AuditEntry.action == "teams.team.updated")
        ).one()
    assert entry.diff == {"name": ["Core", "Core Infra"], "tech_tags": [["go"], ["rust"]]}


def test_no_op_update_writes_no_audit_row() -> None:
    admin = make_user("Admin")
    team_id = make_team(admin, "Core")
    teams.update_team(actor_of(admin), team_id, TeamUpdate(name="Core"))
    assert audit_actions() == ["teams.team.created"]


def test_duplicate_name_is_refused_and_changes_nothing() -> None:
    admin = make_user("Admin")
    make_team(admin, "Core")
    recorder = RecordingBus()
    events.set_bus(recorder)
    with pytest.raises(TeamNameTaken) as info:
        make_team(admin, "Core")
    assert info.value.code is ErrorCode.ALREADY_EXISTS
    assert [t.name for t in teams.list_teams(actor_of(admin))] == ["Core"]
    assert audit_actions() == ["teams.team.created"]
    assert recorder.events == []  # nothing announced for a rolled-back command


def test_adding_an_existing_member_is_a_conflict() -> None:
    admin, bob = make_user("Admin"), make_user("Bob")
    team_id = make_team(admin, "Core")
    add_member(admin, team_id, bob, TeamRole.RESPONDER)
    with pytest.raises(AlreadyMember):
        add_member(admin, team_id, bob, TeamRole.OBSERVER)
    assert memberships(team_id) == {admin.id: "TEAM_ADMIN", bob.id: "RESPONDER"}


def test_any_member_may_leave_but_the_last_admin_may_not_orphan_the_team() -> None:
    admin, bob = make_user("Admin"), make_user("Bob")
    team_id = make_team(admin, "Core")
    add_member(admin, team_id, bob, TeamRole.OBSERVER)
    with pytest.raises(LastTeamAdmin) as info:
        teams.remove_member(actor_of(admin), team_id, admin.id or 0)
    assert info.value.code is ErrorCode.LAST_TEAM_ADMIN
    with pytest.raises(LastTeamAdmin):
        teams.change_role(actor_of(admin), team_id, admin.id or 0, TeamRole.RESPONDER)
    teams.remove_member(actor_of(bob), team_id, bob.id or 0)
    assert memberships(team_id) == {admin.id: "TEAM_ADMIN"}
    # Alone, the admin may leave: no members remain to be orphaned.
    teams.remove_member(actor_of(admin), team_id, admin.id or 0)
    assert memberships(team_id) == {}


def test_an_observer_cannot_remove_someone_else() -> None:
    admin, bob, carol = make_user("Admin"), make_user("Bob"), make_user("Carol")
    team_id = make_team(admin, "Core")
    add_member(admin, team_id, bob, TeamRole.OBSERVER)
    add_member(admin, team_id, carol, TeamRole.RESPONDER)
    with pytest.raises(PermissionDenied):
        teams.remove_member(actor_of(bob), team_id, carol.id or 0)
    assert carol.id in memberships(team_id)


def test_health_warnings_track_membership() -> None:
    admin = make_user("Admin")
    team_id = make_team(admin, "Core")
    detail = teams.get_team(actor_of(admin), team_id)
    assert detail.health_warnings == ["Only 1 responder: a sustainable rotation needs at least 3."]
    for name in ("B", "C"):
        add_member(admin, team_id, make_user(name), TeamRole.RESPONDER)
    assert teams.get_team(actor_of(admin), team_id).health_warnings == []


@pytest.mark.parametrize(
    ("_case", "data", "field"),
    [
        ("short name", {"name": "x"}, "name"),
        ("bad tag", {"name": "Good", "org_tags": ["Has Space"]}, "org_tags"),
        ("unknown field", {"name": "Good", "owner": 1}, "owner"),
    ],
)
def test_bad_input_is_a_field_error(_case: str, data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse(TeamCreate, data)
    assert [e.loc[1] for e in info.value.errors] == [field]


def test_my_teams_lists_only_my_memberships_with_role_and_health() -> None:
    admin, bob = make_user("Admin"), make_user("Bob")
    core = make_team(admin, "Core")
    make_team(admin, "Other")
    add_member(admin, core, bob, TeamRole.OBSERVER)
    [mine] = teams.my_teams(actor_of(bob))
    assert (mine.id, mine.name, mine.my_role, mine.member_count) == (
        core,
        "Core",
        TeamRole.OBSERVER,
        2,
    )
    assert mine.health_warnings == ["Only 1 responder: a sustainable rotation needs at least 3."]
    assert [t.name for t in teams.my_teams(actor_of(admin))] == ["Core", "Other"]
