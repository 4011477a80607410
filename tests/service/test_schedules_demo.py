"""The demo seed's schedules: created once, follow-the-sun covers every hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.core.actor import Actor
from backend.demo import seed as demo_seed
from backend.schedules import oncall


def test_demo_schedules_are_idempotent_and_fully_covered() -> None:
    first = demo_seed.seed()["schedules"]
    assert demo_seed.seed()["schedules"] == first
    assert sorted(first) == ["Payments primary", "Platform follow-the-sun"]
    start = datetime(2026, 3, 23, tzinfo=UTC)  # two weeks over Europe's spring-forward
    view = oncall.timeline(
        Actor.system(), first["Platform follow-the-sun"], start, start + timedelta(days=14)
    )
    assert view.gaps == []
    assert {s.user_name for s in view.final} == {"Alice Adams", "Bob Brown", "Carol Chen"}
    assert [row.name for row in view.layers] == [
        "Weekend",
        "Asia-Pacific business hours",
        "Europe business hours",
    ]
