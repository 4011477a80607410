"""/api/v1/schedules over HTTP with API keys; RFC 9457 problems; the iCalendar feed agrees
with ``/oncall`` and ``/shifts`` at every handoff (parsed with icalendar +
recurring-ical-events)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import recurring_ical_events
import time_machine
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.apikeys.scopes import Scope
from backend.core.db import unit_of_work
from backend.core.secrets import sha256_hex
from backend.schedules import feeds
from backend.schedules.models import CalendarFeed, Schedule
from tests.api.conftest import bearer, issue_key
from tests.api.test_api_keys import assert_problem
from tests.factories.identity import actor_of
from tests.factories.schedules import Crew, make_crew

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
BASE = "/api/v1/schedules"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def crew() -> Crew:
    return make_crew()


@pytest.fixture
def writer() -> dict[str, str]:
    return bearer(issue_key(Scope.SCHEDULES_WRITE))


def schedule_count() -> int:
    with unit_of_work() as uow:
        return len(list(uow.session.exec(select(Schedule))))


def follow_the_sun(client: TestClient, crew: Crew, headers: dict[str, str]) -> int:
    """Berlin days (ann, ben daily) and Berlin nights (cat), with an override and a swap."""
    created = client.post(
        BASE,
        headers=headers,
        json={"team_id": crew.team_id, "name": "Follow the sun", "time_zone": "Europe/Berlin"},
    )
    assert created.status_code == 201, created.text
    sid: int = created.json()["id"]
    every_day = list(range(7))
    for name, people, window in (
        ("Europe", ["ann", "ben"], {"days": every_day, "start": "08:00", "end": "20:00"}),
        ("Americas", ["cat"], {"days": every_day, "start": "20:00", "end": "08:00"}),
    ):
        layer = client.post(
            f"{BASE}/{sid}/layers",
            headers=headers,
            json={
                "name": name,
                "participants": [crew.id(p) for p in people],
                "rrule": "FREQ=DAILY",
                "handoff_time": "08:00",
                "starts_on": "2026-03-01",
                "restrictions": [window],
            },
        )
        assert layer.status_code == 201, layer.text
    override = client.post(
        f"{BASE}/{sid}/overrides",
        headers=headers,
        json={
            "user_id": crew.id("admin"),
            "start": "2026-03-30T10:00:00Z",
            "end": "2026-03-30T14:00:00Z",
            "reason": "vacation cover",
        },
    )
    assert override.status_code == 201, override.text
    return sid


def test_schedule_lifecycle_and_who_is_on_call(client: TestClient, crew: Crew) -> None:
    headers = bearer(issue_key(Scope.SCHEDULES_WRITE))
    sid = follow_the_sun(client, crew, headers)
    detail = client.get(f"{BASE}/{sid}", headers=headers).json()
    assert [layer["name"] for layer in detail["layers"]] == ["Europe", "Americas"]
    # 2026-03-20 is a Friday; ann took 03-01, so 03-20 (day 19) is ben's. 12:00Z = 13:00 CET.
    now = client.get(f"{BASE}/{sid}/oncall", headers=headers).json()
    assert (now["shift"]["user_name"], now["shift"]["source"]) == ("Ben", "layer")
    assert (now["shift"]["start"], now["shift"]["end"]) == (
        "2026-03-20T07:00:00Z",
        "2026-03-20T19:00:00Z",
    )
    night = client.get(
        f"{BASE}/{sid}/oncall", headers=headers, params={"at": "2026-03-20T22:00:00Z"}
    )
    assert night.json()["shift"]["user_name"] == "Cat"
    # After the spring-forward night (03-29) the day window is 06:00Z-18:00Z.
    shifts = client.get(
        f"{BASE}/{sid}/shifts",
        headers=headers,
        params={"start": "2026-03-30T00:00:00Z", "end": "2026-03-31T00:00:00Z"},
    ).json()
    assert [(s["start"][11:16], s["end"][11:16], s["user_name"], s["source"]) for s in shifts] == [
        ("00:00", "06:00", "Cat", "layer"),
        ("06:00", "10:00", "Ben", "layer"),
        ("10:00", "14:00", "Admin", "override"),
        ("14:00", "18:00", "Ben", "layer"),
        ("18:00", "00:00", "Cat", "layer"),
    ]
    team = client.get(f"{BASE}/oncall", headers=headers, params={"team_id": crew.team_id}).json()
    assert [(o["schedule_id"], o["shift"]["user_name"]) for o in team] == [(sid, "Ben")]
    assert client.delete(f"{BASE}/{sid}", headers=headers).status_code == 204
    assert schedule_count() == 0


@pytest.mark.parametrize(
    ("_case", "body", "loc"),
    [
        ("unknown zone", {"name": "S", "time_zone": "Europe/Atlantis"}, ["body", "time_zone"]),
        ("name too short", {"name": "S", "time_zone": "UTC", "x": 1}, ["body", "name"]),
    ],
)
def test_bad_schedule_is_a_422_problem_and_changes_nothing(
    client: TestClient,
    crew: Crew,
    writer: dict[str, str],
    _case: str,
    body: dict[str, object],
    loc: list[str],
) -> None:
    response = client.post(BASE, headers=writer, json={"team_id": crew.team_id, **body})
    problem = assert_problem(response, 422, "validation_failed")
    assert loc in [e["loc"] for e in problem["errors"]]
    assert schedule_count() == 0


def test_layer_and_override_problems(
    client: TestClient, crew: Crew, writer: dict[str, str]
) -> None:
    sid = follow_the_sun(client, crew, writer)
    bad_rule = client.post(
        f"{BASE}/{sid}/layers",
        headers=writer,
        json={
            "name": "X",
            "participants": [crew.id("ann")],
            "rrule": "FREQ=DAILY;UNTIL=20270101",
            "starts_on": "2026-03-01",
        },
    )
    assert [e["loc"] for e in assert_problem(bad_rule, 422, "validation_failed")["errors"]] == [
        ["body", "rrule"]
    ]
    outsider = client.post(
        f"{BASE}/{sid}/layers",
        headers=writer,
        json={"name": "X", "participants": [crew.id("outsider")], "starts_on": "2026-03-01"},
    )
    assert [e["loc"] for e in assert_problem(outsider, 422, "validation_failed")["errors"]] == [
        ["body", "participants", 0]
    ]
    overlap = client.post(
        f"{BASE}/{sid}/overrides",
        headers=writer,
        json={
            "user_id": crew.id("ann"),
            "start": "2026-03-30T13:00:00Z",
            "end": "2026-03-30T15:00:00Z",
        },
    )
    assert_problem(overlap, 409, "conflict")
    naive = client.get(
        f"{BASE}/{sid}/shifts",
        headers=writer,
        params={"start": "2026-03-30T00:00:00", "end": "2026-03-31T00:00:00Z"},
    )
    assert [e["loc"] for e in assert_problem(naive, 422, "validation_failed")["errors"]] == [
        ["query", "start"]
    ]
    too_long = client.get(
        f"{BASE}/{sid}/shifts",
        headers=writer,
        params={"start": "2026-01-01T00:00:00Z", "end": "2026-06-01T00:00:00Z"},
    )
    assert_problem(too_long, 422, "validation_failed")
    listed = client.get(
        f"{BASE}/{sid}/overrides",
        headers=writer,
        params={"start": "2026-03-01T00:00:00Z", "end": "2026-04-01T00:00:00Z"},
    ).json()
    assert [(o["user_id"], o["reason"]) for o in listed] == [(crew.id("admin"), "vacation cover")]


def test_read_scope_cannot_write(client: TestClient, crew: Crew) -> None:
    reader = bearer(issue_key(Scope.SCHEDULES_READ))
    response = client.post(
        BASE, headers=reader, json={"team_id": crew.team_id, "name": "Nope", "time_zone": "UTC"}
    )
    assert_problem(response, 403, "insufficient_scope")
    assert schedule_count() == 0


def test_swap_over_the_api_then_forced(
    client: TestClient, crew: Crew, writer: dict[str, str]
) -> None:
    sid = follow_the_sun(client, crew, writer)
    # 2026-03-21 (day 20) is ann's day: 07:00Z-19:00Z in CET.
    asked = client.post(
        f"{BASE}/{sid}/swaps",
        headers=writer,
        json={
            "requester_id": crew.id("ann"),
            "counterpart_id": crew.id("ben"),
            "start": "2026-03-21T07:00:00Z",
            "end": "2026-03-21T19:00:00Z",
        },
    )
    assert asked.status_code == 201, asked.text
    past = client.post(
        f"{BASE}/{sid}/swaps",
        headers=writer,
        json={
            "requester_id": crew.id("ben"),
            "counterpart_id": crew.id("ann"),
            "start": "2026-03-20T07:00:00Z",
            "end": "2026-03-20T19:00:00Z",
        },
    )
    assert [e["loc"] for e in assert_problem(past, 422, "validation_failed")["errors"]] == [
        ["body", "start"]
    ]
    forced = client.post(f"{BASE}/{sid}/swaps/{asked.json()['id']}/force", headers=writer)
    assert forced.json()["status"] == "forced"
    at = client.get(f"{BASE}/{sid}/oncall", headers=writer, params={"at": "2026-03-21T12:00:00Z"})
    assert (at.json()["shift"]["user_name"], at.json()["shift"]["source"]) == ("Ben", "swap")


def test_ical_feed_agrees_with_oncall_at_every_handoff(
    client: TestClient, crew: Crew, writer: dict[str, str]
) -> None:
    sid = follow_the_sun(client, crew, writer)
    created = feeds.create_feed(actor_of(crew.ann), sid)
    with unit_of_work() as uow:
        stored = [f.token_hash for f in uow.session.exec(select(CalendarFeed))]
    assert stored == [sha256_hex(created.token)]

    response = client.get(created.path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    start, end = NOW - timedelta(days=31), NOW + timedelta(days=62)
    events = sorted(
        recurring_ical_events.of(calendar).between(start, end), key=lambda e: e["DTSTART"].dt
    )
    middle = start + timedelta(days=46)
    shifts: list[dict[str, str]] = []
    for lo, hi in ((start, middle), (middle, end)):
        part = client.get(
            f"{BASE}/{sid}/shifts",
            headers=writer,
            params={"start": lo.isoformat(), "end": hi.isoformat()},
        ).json()
        # A shift cut at the request boundary is one event in the feed's single computation.
        if (
            shifts
            and part
            and shifts[-1]["end"] == part[0]["start"]
            and (shifts[-1]["user_id"], shifts[-1]["source"])
            == (part[0]["user_id"], part[0]["source"])
        ):
            shifts[-1] = {**shifts[-1], "end": part[0]["end"]}
            part = part[1:]
        shifts += part
    assert [(e["DTSTART"].dt, e["DTEND"].dt, str(e["SUMMARY"])) for e in events] == [
        (
            datetime.fromisoformat(s["start"]),
            datetime.fromisoformat(s["end"]),
            f"On call: {s['user_name']} (Follow the sun)",
        )
        for s in shifts
    ]
    # The rotation starts on 03-01 (07:00Z): from then on a day and a night on each of the 82
    # days to 05-21, whose night is after the feed's end (12:00Z); the override cuts one day
    # in three.
    assert events[0]["DTSTART"].dt == datetime(2026, 3, 1, 7, tzinfo=UTC)
    assert len(events) == 2 * 82 - 1 + 2
    for event in events:
        at = event["DTSTART"].dt.astimezone(UTC)
        answer = client.get(f"{BASE}/{sid}/oncall", headers=writer, params={"at": at.isoformat()})
        shift = answer.json()["shift"]
        assert f"On call: {shift['user_name']} (Follow the sun)" == str(event["SUMMARY"])
        assert datetime.fromisoformat(shift["start"]) == at or at == start
        before = client.get(
            f"{BASE}/{sid}/oncall",
            headers=writer,
            params={"at": (at - timedelta(microseconds=1)).isoformat()},
        ).json()["shift"]
        assert before is None or before["end"] == shift["start"] or at == start

    feeds.revoke_feed(actor_of(crew.ann), created.id)
    assert_problem(client.get(created.path), 404, "not_found")
    assert_problem(client.get("/api/calendar/not-a-token.ics"), 404, "not_found")
