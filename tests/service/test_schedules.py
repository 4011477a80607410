"""Schedule commands through the services: authorization by role, audit rows, events, and
refused input that changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time

import pytest
import time_machine
from sqlmodel import col, select

from backend.audit.models import AuditEntry
from backend.core import events
from backend.core.actor import Actor
from backend.core.db import unit_of_work
from backend.core.errors import ErrorCode, PermissionDenied, ValidationFailed
from backend.core.validation import parse
from backend.schedules import oncall, overrides
from backend.schedules import service as schedules
from backend.schedules.errors import OverrideOverlaps, ScheduleNameTaken
from backend.schedules.models import Schedule, ScheduleLayer, ScheduleOverride
from backend.schedules.schemas import (
    LayerCreate,
    LayerUpdate,
    OverrideCreate,
    ScheduleCreate,
    ScheduleUpdate,
)
from tests.factories.events import RecordingBus
from tests.factories.identity import actor_of
from tests.factories.schedules import Crew, make_crew, make_schedule

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def crew() -> Crew:
    return make_crew()


def audit_actions() -> list[str]:
    with unit_of_work() as uow:
        return [e.action for e in uow.session.exec(select(AuditEntry).order_by(AuditEntry.id))]


def table_counts() -> tuple[int, int, int]:
    with unit_of_work() as uow:
        return (
            len(list(uow.session.exec(select(Schedule)))),
            len(list(uow.session.exec(select(ScheduleLayer)))),
            len(list(uow.session.exec(select(ScheduleOverride)))),
        )


def layer_body(crew: Crew, **changes: object) -> LayerCreate:
    data: dict[str, object] = {
        "name": "Nights",
        "participants": [crew.id("ann"), crew.id("ben")],
        "rrule": "FREQ=WEEKLY",
        "handoff_time": "09:00",
        "starts_on": "2026-03-02",
    }
    return LayerCreate.model_validate({**data, **changes})


ADMIN_OPERATIONS: dict[str, Callable[[Actor, Crew, int], object]] = {
    "create schedule": lambda actor, crew, _s: schedules.create_schedule(
        actor, ScheduleCreate(team_id=crew.team_id, name="Second", time_zone="UTC")
    ),
    "rename schedule": lambda actor, _c, sid: schedules.update_schedule(
        actor, sid, ScheduleUpdate(name="Renamed")
    ),
    "add layer": lambda actor, crew, sid: schedules.add_layer(actor, sid, layer_body(crew)),
    "delete schedule": lambda actor, _c, sid: schedules.delete_schedule(actor, sid),
}
ALLOWED = {"admin": True, "root": True, "ann": False, "observer": False, "outsider": False}


@pytest.mark.parametrize("operation", list(ADMIN_OPERATIONS))
@pytest.mark.parametrize("who", list(ALLOWED))
def test_schedule_edits_by_role(crew: Crew, operation: str, who: str) -> None:
    schedule_id = make_schedule(crew)
    before_audit, before_rows = audit_actions(), table_counts()
    call = ADMIN_OPERATIONS[operation]
    if ALLOWED[who]:
        call(actor_of(getattr(crew, who)), crew, schedule_id)
        assert len(audit_actions()) == len(before_audit) + 1
        assert audit_actions()[-1].startswith("schedules.")
    else:
        with pytest.raises(PermissionDenied) as info:
            call(actor_of(getattr(crew, who)), crew, schedule_id)
        assert info.value.code is ErrorCode.PERMISSION_DENIED
        assert audit_actions() == before_audit
        assert table_counts() == before_rows


def test_commands_audit_and_publish_after_commit(crew: Crew) -> None:
    recording = RecordingBus()
    events.set_bus(recording)
    schedule_id = make_schedule(crew)
    ann = actor_of(crew.ann)
    overrides.create_override(
        ann, schedule_id, OverrideCreate(start=z("2026-03-02T08:00Z"), end=z("2026-03-02T10:00Z"))
    )
    assert audit_actions()[-3:] == [
        "schedules.schedule.created",
        "schedules.layer.created",
        "schedules.override.created",
    ]
    schedule_events = [e for e in recording.events if e.name.startswith("schedules.")]
    assert [e.name for e in schedule_events] == [
        "schedules.schedule.created",
        "schedules.layer.created",
        "schedules.override.created",
    ]
    assert schedule_events[-1].topics == ("schedules", f"schedule:{schedule_id}")


@pytest.mark.parametrize(
    ("_case", "who", "for_whom", "allowed"),
    [
        ("responder for self", "ann", "ann", True),
        ("responder for someone else", "ann", "ben", False),
        ("observer for self", "observer", "observer", False),
        ("outsider for self", "outsider", "outsider", False),
        ("admin for a responder", "admin", "ben", True),
    ],
)
def test_override_permissions(
    crew: Crew, _case: str, who: str, for_whom: str, allowed: bool
) -> None:
    schedule_id = make_schedule(crew)
    body = OverrideCreate(
        start=z("2026-03-02T08:00Z"), end=z("2026-03-03T08:00Z"), user_id=crew.id(for_whom)
    )
    before = (audit_actions(), table_counts())
    if allowed:
        created = overrides.create_override(actor_of(getattr(crew, who)), schedule_id, body)
        assert created.user_id == crew.id(for_whom)
        got = oncall.oncall(actor_of(crew.outsider), schedule_id, z("2026-03-02T09:00Z"))
        assert got.shift is not None
        assert (got.shift.user_id, got.shift.source, got.shift.override_id) == (
            crew.id(for_whom),
            "override",
            created.id,
        )
    else:
        with pytest.raises(PermissionDenied):
            overrides.create_override(actor_of(getattr(crew, who)), schedule_id, body)
        assert (audit_actions(), table_counts()) == before


def test_overlapping_override_is_a_conflict_and_changes_nothing(crew: Crew) -> None:
    schedule_id = make_schedule(crew)
    admin = actor_of(crew.admin)
    overrides.create_override(
        admin,
        schedule_id,
        OverrideCreate(
            start=z("2026-03-02T08:00Z"), end=z("2026-03-02T12:00Z"), user_id=crew.id("cat")
        ),
    )
    before = (audit_actions(), table_counts())
    with pytest.raises(OverrideOverlaps) as info:
        overrides.create_override(
            admin,
            schedule_id,
            OverrideCreate(
                start=z("2026-03-02T11:59Z"), end=z("2026-03-02T13:00Z"), user_id=crew.id("ben")
            ),
        )
    assert info.value.code is ErrorCode.CONFLICT
    assert (audit_actions(), table_counts()) == before
    # Touching is not overlapping.
    overrides.create_override(
        admin,
        schedule_id,
        OverrideCreate(
            start=z("2026-03-02T12:00Z"), end=z("2026-03-02T13:00Z"), user_id=crew.id("ben")
        ),
    )


@pytest.mark.parametrize(
    ("_case", "model", "data", "loc"),
    [
        (
            "unknown zone",
            ScheduleCreate,
            {"team_id": 1, "name": "X1", "time_zone": "Mars/Base"},
            ["body", "time_zone"],
        ),
        (
            "bad rrule",
            LayerCreate,
            {"name": "L", "participants": [1], "rrule": "FREQ=SECONDLY", "starts_on": "2026-03-02"},
            ["body", "rrule"],
        ),
        (
            "infinite only",
            LayerCreate,
            {
                "name": "L",
                "participants": [1],
                "rrule": "FREQ=DAILY;COUNT=2",
                "starts_on": "2026-03-02",
            },
            ["body", "rrule"],
        ),
        (
            "end before start",
            OverrideCreate,
            {"start": "2026-03-02T10:00Z", "end": "2026-03-02T09:00Z"},
            ["body", "end"],
        ),
        (
            "naive datetime",
            OverrideCreate,
            {"start": "2026-03-02T10:00", "end": "2026-03-02T11:00Z"},
            ["body", "start"],
        ),
        (
            "bad weekday",
            LayerCreate,
            {
                "name": "L",
                "participants": [1],
                "starts_on": "2026-03-02",
                "restrictions": [{"days": [7], "start": "09:00", "end": "17:00"}],
            },
            ["body", "restrictions", "0", "days"],
        ),
    ],
)
def test_bad_input_is_a_validation_problem_with_field_errors(
    _case: str, model: type, data: dict[str, object], loc: list[str]
) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse(model, data)
    assert info.value.code is ErrorCode.VALIDATION_FAILED
    assert [list(map(str, e.loc)) for e in info.value.errors] == [loc]


def test_participants_must_be_responders_of_the_team(crew: Crew) -> None:
    schedule_id = make_schedule(crew)
    before = (audit_actions(), table_counts())
    body = layer_body(crew, participants=[crew.id("ann"), crew.id("outsider"), crew.id("observer")])
    with pytest.raises(ValidationFailed) as info:
        schedules.add_layer(actor_of(crew.admin), schedule_id, body)
    assert [e.loc for e in info.value.errors] == [
        ("body", "participants", 1),
        ("body", "participants", 2),
    ]
    assert (audit_actions(), table_counts()) == before


def test_layer_update_is_validated_as_a_whole(crew: Crew) -> None:
    schedule_id = make_schedule(crew, rule="FREQ=MONTHLY", starts_on=date(2026, 3, 2))
    layer_id = schedules.get_schedule(actor_of(crew.admin), schedule_id).layers[0].id
    before = (audit_actions(), table_counts())
    with pytest.raises(ValidationFailed) as info:
        # A monthly rotation cannot start on the 30th.
        schedules.update_layer(
            actor_of(crew.admin), schedule_id, layer_id, LayerUpdate(starts_on=date(2026, 3, 30))
        )
    assert [e.loc for e in info.value.errors] == [("body", "rrule")]
    assert (audit_actions(), table_counts()) == before
    updated = schedules.update_layer(
        actor_of(crew.admin), schedule_id, layer_id, LayerUpdate(handoff_time=time(10))
    )
    assert updated.handoff_time == time(10)
    assert audit_actions()[-1] == "schedules.layer.updated"


def test_timeline_rows_final_and_gaps(crew: Crew) -> None:
    # Berlin is UTC+1 in early March: a 09:00 handoff is 08:00Z.
    schedule_id = make_schedule(crew, starts_on=date(2026, 3, 2))
    view = oncall.timeline(
        actor_of(crew.outsider), schedule_id, z("2026-03-02T00:00Z"), z("2026-03-04T00:00Z")
    )
    assert [(g.start, g.end) for g in view.gaps] == [
        (z("2026-03-02T00:00Z"), z("2026-03-02T08:00Z"))
    ]
    assert [(s.start, s.end, s.user_name) for s in view.final] == [
        (z("2026-03-02T08:00Z"), z("2026-03-03T08:00Z"), "Ann"),
        (z("2026-03-03T08:00Z"), z("2026-03-04T00:00Z"), "Ben"),
    ]
    assert [row.name for row in view.layers] == ["Rotation"]
    assert [(s.start, s.user_name) for s in view.layers[0].shifts] == [
        (z("2026-03-02T08:00Z"), "Ann"),
        (z("2026-03-03T08:00Z"), "Ben"),
    ]


def test_ranges_are_bounded_and_aware(crew: Crew) -> None:
    schedule_id = make_schedule(crew)
    reader = actor_of(crew.outsider)
    with pytest.raises(ValidationFailed) as info:
        oncall.final_shifts(reader, schedule_id, z("2026-03-01T00:00Z"), z("2026-06-03T00:00Z"))
    assert [e.loc for e in info.value.errors] == [("query", "end")]
    with pytest.raises(ValidationFailed) as info:
        oncall.final_shifts(reader, schedule_id, datetime(2026, 3, 1), z("2026-03-03T00:00Z"))
    assert [e.loc for e in info.value.errors] == [("query", "start")]


def test_who_is_on_call_for_team_and_user(crew: Crew) -> None:
    schedule_id = make_schedule(crew, starts_on=date(2026, 3, 2))
    at = z("2026-03-03T09:00Z")
    team = oncall.oncall_for_team(actor_of(crew.outsider), crew.team_id, at)
    assert [(o.schedule_id, o.shift.user_id if o.shift else None) for o in team] == [
        (schedule_id, crew.id("ben"))
    ]
    assert team[0].shift is not None
    assert (team[0].shift.start, team[0].shift.end) == (
        z("2026-03-03T08:00Z"),
        z("2026-03-04T08:00Z"),
    )
    assert [
        o.schedule_id for o in oncall.oncall_for_user(actor_of(crew.ann), crew.id("ben"), at)
    ] == [schedule_id]
    assert oncall.oncall_for_user(actor_of(crew.ann), crew.id("ann"), at) == []
    # Before the rotation starts nobody is on call (now is 2026-03-01).
    assert oncall.oncall(actor_of(crew.ann), schedule_id).shift is None


def test_deleting_a_schedule_removes_its_layers_and_overrides(crew: Crew) -> None:
    schedule_id = make_schedule(crew)
    overrides.create_override(
        actor_of(crew.ann),
        schedule_id,
        OverrideCreate(start=z("2026-03-02T08:00Z"), end=z("2026-03-02T10:00Z")),
    )
    assert table_counts() == (1, 1, 1)
    schedules.delete_schedule(actor_of(crew.admin), schedule_id)
    assert table_counts() == (0, 0, 0)


def test_update_schedule_renames_and_moves_zone_with_audit_and_event(crew: Crew) -> None:
    recording = RecordingBus()
    events.set_bus(recording)
    schedule_id = make_schedule(crew)
    admin = actor_of(crew.admin)
    before = oncall.oncall(admin, schedule_id, z("2026-03-03T08:30Z"))
    assert before.shift is not None  # 09:00 Berlin handoff: yesterday's person until 08:00Z

    detail = schedules.update_schedule(
        admin,
        schedule_id,
        ScheduleUpdate(name="Primary EU", time_zone="America/New_York", description="moved"),
    )

    assert (detail.name, detail.time_zone, detail.description) == (
        "Primary EU",
        "America/New_York",
        "moved",
    )
    with unit_of_work() as uow:
        entry = uow.session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc())).first()
    assert entry is not None
    assert entry.action == "schedules.schedule.updated"
    assert entry.diff["time_zone"] == ["Europe/Berlin", "America/New_York"]
    assert entry.diff["name"] == ["Primary", "Primary EU"]
    assert recording.events[-1].name == "schedules.schedule.updated"
    assert recording.events[-1].topics == ("schedules", f"schedule:{schedule_id}")
    # Handoffs keep their wall-clock time in the new zone: 09:00 New York is 14:00Z.
    shifts = oncall.final_shifts(admin, schedule_id, z("2026-03-03T00:00Z"), z("2026-03-04T00:00Z"))
    assert z("2026-03-03T14:00Z") in [s.start for s in shifts]


def test_update_schedule_refuses_a_taken_name_or_a_bad_zone_and_changes_nothing(
    crew: Crew,
) -> None:
    schedule_id = make_schedule(crew)
    admin = actor_of(crew.admin)
    schedules.create_schedule(
        admin, ScheduleCreate(team_id=crew.team_id, name="Secondary", time_zone="UTC")
    )
    actions = audit_actions()
    with pytest.raises(ScheduleNameTaken):
        schedules.update_schedule(admin, schedule_id, ScheduleUpdate(name="Secondary"))
    with pytest.raises(ValidationFailed):
        parse(ScheduleUpdate, {"time_zone": "Mars/Olympus"})
    assert schedules.get_schedule(admin, schedule_id).name == "Primary"
    assert audit_actions() == actions
    # Saving the same values is not a change: no audit row.
    schedules.update_schedule(admin, schedule_id, ScheduleUpdate(name="Primary"))
    assert audit_actions() == actions
