"""Demo schedules: follow-the-sun across Berlin and Sydney with a weekend layer, and a plain
weekly rotation. Idempotent: a schedule that exists by name is left alone."""

from __future__ import annotations

from datetime import date, time

from backend.core.actor import Actor
from backend.schedules import service as schedules
from backend.schedules.schemas import LayerCreate, ScheduleCreate, WindowIn

WEEKDAYS = [0, 1, 2, 3, 4]
# Rotations start on a Monday well in the past so the demo is always mid-rotation.
START = date(2026, 1, 5)


def _platform_layers(ids: dict[str, int]) -> list[LayerCreate]:
    alice, bob, carol = (ids[f"{n}@demo.oncall.local"] for n in ("alice", "bob", "carol"))
    return [
        LayerCreate(
            name="Europe business hours",
            priority=10,
            participants=[bob],
            rrule="FREQ=WEEKLY",
            handoff_time=time(8),
            starts_on=START,
            restrictions=[WindowIn(days=WEEKDAYS, start=time(8), end=time(20))],
        ),
        LayerCreate(
            # 20:00-08:00 Berlin is roughly 06:00-18:00 in Sydney: Carol's daytime. Every day,
            # so Monday's early hours are covered; the weekend layer outranks it on weekends.
            name="Asia-Pacific business hours",
            priority=10,
            participants=[carol],
            rrule="FREQ=WEEKLY",
            handoff_time=time(20),
            starts_on=START,
            restrictions=[WindowIn(days=list(range(7)), start=time(20), end=time(8))],
        ),
        LayerCreate(
            name="Weekend",
            priority=20,
            participants=[alice, bob, carol],
            rrule="FREQ=WEEKLY;BYDAY=SA",
            handoff_time=time(9),
            starts_on=START,
            restrictions=[WindowIn(days=[5, 6], start=time(0), end=time(0))],
        ),
    ]


def _payments_layers(ids: dict[str, int]) -> list[LayerCreate]:
    dave, bob = ids["dave@demo.oncall.local"], ids["bob@demo.oncall.local"]
    return [
        LayerCreate(
            name="Primary",
            participants=[dave, bob],
            rrule="FREQ=WEEKLY",
            handoff_time=time(10),
            starts_on=START,
        )
    ]


def ensure_schedules(
    actor: Actor, user_ids: dict[str, int], team_ids: dict[str, int]
) -> dict[str, int]:
    """Create the demo schedules that are missing; returns their ids by name."""
    wanted = [
        ("Platform", "Platform follow-the-sun", "Europe/Berlin", _platform_layers(user_ids)),
        ("Payments", "Payments primary", "America/Los_Angeles", _payments_layers(user_ids)),
    ]
    ids: dict[str, int] = {}
    for team, name, zone, layers in wanted:
        existing = [
            s for s in schedules.list_schedules(actor, team_id=team_ids[team]) if s.name == name
        ]
        if existing:
            ids[name] = existing[0].id
            continue
        created = schedules.create_schedule(
            actor, ScheduleCreate(team_id=team_ids[team], name=name, time_zone=zone)
        )
        for layer in layers:
            schedules.add_layer(actor, created.id, layer)
        ids[name] = created.id
    return ids
