"""Schedules end to end: a team admin builds a follow-the-sun schedule in the editor, covers a
vacation with an override, and the timeline agrees with ``GET /api/v1/schedules/{id}/oncall``
at the handoffs around it; a responder swaps a shift and the other accepts in a second browser;
a schedule is renamed and moved to another zone, and its iCal feed agrees with the API until
it is revoked."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
import icalendar
import pytest
import recurring_ical_events
from playwright.sync_api import Page, expect

from oncall_app.state.schedules_view import fmt
from tests.e2e.conftest import Account, RunningApp
from tests.e2e.helpers import create_team, new_page, sign_in

pytestmark = pytest.mark.e2e

BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")


def _add_member(page: Page, name: str, email: str) -> None:
    form = page.get_by_test_id("add-member-form")
    form.locator("select[name=user_id]").select_option(label=f"{name} <{email}>")
    form.locator("select[name=role]").select_option("RESPONDER")
    form.get_by_role("button", name="Add member").click()
    expect(page.get_by_test_id("member-row").filter(has_text=email)).to_be_visible()


def _team(page: Page, app: RunningApp, prefix: str, members: tuple[Account, ...]) -> str:
    """A new team (the admin signed in on ``page`` administers it) with ``members`` as
    responders; its name."""
    team = f"{prefix} {uuid.uuid4().hex[:6]}"
    page.goto(f"{app.base_url}/teams")
    create_team(page, team)
    page.get_by_test_id("team-card").filter(has_text=team).get_by_role("link", name=team).click()
    page.wait_for_url(f"{app.base_url}/teams/**")
    for account in members:
        _add_member(page, account.name, account.email)
    return team


def _create_schedule(page: Page, base_url: str, team: str, name: str, zone: str) -> str:
    """Through the create form on /schedules; the new schedule's id."""
    page.goto(f"{base_url}/schedules")
    page.get_by_role("button", name="New schedule").click()
    form = page.get_by_test_id("create-schedule-form")
    form.locator("select[name=team_id]").select_option(label=team)
    form.locator("input[name=name]").fill(name)
    form.locator("select[name=time_zone]").select_option(zone)
    form.get_by_role("button", name="Create schedule").click()
    page.wait_for_url(re.compile(r".*/schedules/\d+$"))
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def _add_rotation(page: Page, name: str, people: tuple[Account, ...], handoff: str) -> None:
    """A daily layer rotating ``people`` in order, on call all the time."""
    page.get_by_role("button", name="Add layer").click()
    editor = page.get_by_test_id("layer-editor")
    editor.locator("input[name=name]").fill(name)
    for person in people:
        editor.locator("select[name=add_participant]").select_option(label=person.name)
    expect(editor.get_by_test_id("participant")).to_have_count(len(people))
    editor.locator("select[name=kind]").select_option("daily")
    editor.locator("input[name=handoff]").fill(handoff)
    editor.get_by_role("button", name="Save layer").click()
    expect(page.get_by_test_id("layer-card").filter(has_text=name)).to_contain_text(people[0].name)


def _add_layer(page: Page, name: str, who: str, handoff: str, until: str) -> None:
    """A daily layer with one window every day from ``handoff`` to ``until``."""
    page.get_by_role("button", name="Add layer").click()
    editor = page.get_by_test_id("layer-editor")
    editor.locator("input[name=name]").fill(name)
    editor.locator("select[name=add_participant]").select_option(label=who)
    expect(editor.get_by_test_id("participant")).to_contain_text(who)
    editor.locator("select[name=kind]").select_option("daily")
    editor.locator("input[name=handoff]").fill(handoff)
    editor.get_by_role("button", name="Add window").click()
    window = editor.get_by_test_id("restriction")
    window.get_by_role("button", name="Sat").click()
    window.get_by_role("button", name="Sun").click()
    expect(window.get_by_role("button", name="Sun")).to_have_attribute("aria-pressed", "true")
    window.get_by_label("Window start").fill(handoff)
    window.get_by_label("Window end").fill(until)
    # The live preview draws the draft layer before anything is saved.
    preview = editor.get_by_test_id("preview")
    expect(preview.locator("[data-row='layer--1'] [data-kind=layer]").first).to_contain_text(who)
    editor.get_by_role("button", name="Save layer").click()
    expect(page.get_by_test_id("layer-card").filter(has_text=name)).to_contain_text(who)


def _api_key(page: Page, base_url: str) -> str:
    """A new ``schedules:read`` key of the user signed in on ``page`` (leaves the page)."""
    page.goto(f"{base_url}/settings/api-keys")
    page.locator("input[name=name]").fill(f"sched-{uuid.uuid4().hex[:6]}")
    page.get_by_role("checkbox", name="schedules:read").click()
    page.get_by_role("button", name="Create key").click()
    text = page.get_by_test_id("new-api-key").inner_text()
    match = re.search(r"oc_\S+", text)
    assert match, text
    return match.group(0)


def _get(base_url: str, key: str, path: str, **params: datetime) -> Any:
    response = httpx2.get(
        f"{base_url}/api/v1/schedules/{path}",
        params={k: v.astimezone(UTC).isoformat() for k, v in params.items()},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _oncall_at(base_url: str, key: str, schedule_id: str, at: datetime) -> str:
    shift = _get(base_url, key, f"{schedule_id}/oncall", at=at)["shift"]
    return shift["user_name"] if shift else ""


def _shifts(base_url: str, key: str, schedule_id: str, start: datetime, end: datetime) -> Any:
    """The final shifts the API reports in ``[start, end)``."""
    return _get(base_url, key, f"{schedule_id}/shifts", start=start, end=end)


def _local(day_offset: int, hour: int) -> datetime:
    today = datetime.now(BERLIN).date()
    return datetime.combine(today + timedelta(days=day_offset), time(hour), BERLIN)


def test_follow_the_sun_with_a_vacation_override(running_app: RunningApp, browser: object) -> None:
    app = running_app
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    sign_in(page, app.base_url, app.admin.email, app.admin.password, "/teams")
    page.wait_for_url(f"{app.base_url}/teams**")
    team = _team(page, app, "Payments", (app.bob, app.carol, app.dave))
    # Create the schedule in Berlin's zone.
    name = f"Follow the sun {uuid.uuid4().hex[:4]}"
    schedule_id = _create_schedule(page, app.base_url, team, name, "Europe/Berlin")

    # Two layers, Europe by day and the Americas by night (Berlin wall clock).
    _add_layer(page, "Europe hours", app.bob.name, "08:00", "20:00")
    _add_layer(page, "Americas hours", app.carol.name, "20:00", "08:00")

    # Bob is on vacation tomorrow and the day after: Dave covers his days and nights.
    start, end = _local(1, 8), _local(2, 20)
    overrides = page.get_by_test_id("override-form")
    expect(overrides).to_contain_text("From (UTC)")  # the admin's profile zone
    overrides.locator("select[name=user_id]").select_option(label=app.dave.name)
    overrides.locator("input[name=start]").fill(start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
    overrides.locator("input[name=end]").fill(end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
    overrides.locator("input[name=reason]").fill("Bob on vacation")
    overrides.get_by_role("button", name="Add override").click()
    expect(page.get_by_test_id("override-row").filter(has_text="Bob on vacation")).to_contain_text(
        app.dave.name
    )

    # An overlapping override is refused beside the form, and nothing is added.
    overrides.locator("select[name=user_id]").select_option(label=app.carol.name)
    overrides.locator("input[name=reason]").fill("overlap")
    overrides.get_by_role("button", name="Add override").click()
    expect(overrides).to_contain_text("overlaps override(s)")
    expect(page.get_by_test_id("override-row")).to_have_count(1)

    # The timeline's final row shows the override with its Berlin times on hover.
    final = page.locator("[data-testid=timeline] [data-row=final]")
    override_bar = final.locator("[data-kind=override]")
    expect(override_bar).to_have_count(1)
    expect(override_bar).to_contain_text(f"{app.dave.name} (override)")
    berlin_span = f"{fmt(start, BERLIN)} → {fmt(end, BERLIN)} (Europe/Berlin)"
    expect(override_bar).to_have_attribute("title", re.compile(re.escape(berlin_span)))
    # ... and Carol takes over at the handoff where it ends.
    after = final.locator("[data-kind=layer]").filter(has_text=app.carol.name)
    expect(after.and_(page.locator(f"[title*='{fmt(end, BERLIN)} →']"))).to_have_count(1)
    expect(final.locator("[data-kind=gap]").first).to_be_visible()  # before the layers start

    # The API agrees at both handoffs of the override.
    key = _api_key(page, app.base_url)
    second = timedelta(seconds=1)
    assert _oncall_at(app.base_url, key, schedule_id, start - second) == app.carol.name
    assert _oncall_at(app.base_url, key, schedule_id, start) == app.dave.name
    assert _oncall_at(app.base_url, key, schedule_id, end - second) == app.dave.name
    assert _oncall_at(app.base_url, key, schedule_id, end) == app.carol.name
    assert _oncall_at(app.base_url, key, schedule_id, _local(3, 8)) == app.bob.name

    # Screenshots at desktop and phone width.
    page.goto(f"{app.base_url}/schedules/{schedule_id}")
    expect(final.locator("[data-kind=override]")).to_have_count(1)
    page.screenshot(path=app.screenshots / "schedule_desktop.png", full_page=True)
    phone = new_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True)
    sign_in(phone, app.base_url, app.admin.email, app.admin.password, f"/schedules/{schedule_id}")
    phone.wait_for_url(f"{app.base_url}/schedules/{schedule_id}**")
    expect(phone.locator("[data-testid=timeline] [data-kind=override]")).to_have_count(1)
    phone.screenshot(path=app.screenshots / "schedule_phone.png", full_page=False)

    # The list and the home page say who is on call now.
    page.goto(f"{app.base_url}/schedules")
    expect(page.get_by_test_id("schedule-row").filter(has_text=name)).to_contain_text(team)
    page.goto(f"{app.base_url}/")
    expect(page.get_by_test_id("home-oncall-row").filter(has_text=name)).to_be_visible()
    page.screenshot(path=app.screenshots / "home_oncall.png", full_page=True)
    phone.context.close()
    page.context.close()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_responder_swaps_a_shift_and_the_other_accepts(
    running_app: RunningApp, browser: object
) -> None:
    app = running_app
    admin = new_page(browser, viewport={"width": 1280, "height": 900})
    sign_in(admin, app.base_url, app.admin.email, app.admin.password, "/teams")
    admin.wait_for_url(f"{app.base_url}/teams**")
    team = _team(admin, app, "Checkout", (app.bob, app.carol, app.dave))
    schedule_id = _create_schedule(
        admin, app.base_url, team, f"Swaps {uuid.uuid4().hex[:4]}", "UTC"
    )
    _add_rotation(admin, "Daily", (app.bob, app.carol), "08:00")
    key = _api_key(admin, app.base_url)

    # Bob's next shift as the API sees it, and who follows him.
    now = datetime.now(UTC)
    shifts = _shifts(app.base_url, key, schedule_id, now, now + timedelta(days=7))
    index = next(
        i for i, s in enumerate(shifts) if s["user_name"] == app.bob.name and _at(s["start"]) > now
    )
    start, end = _at(shifts[index]["start"]), _at(shifts[index]["end"])
    after = shifts[index + 1]
    assert (_at(after["start"]), after["user_name"]) == (end, app.carol.name)
    assert _oncall_at(app.base_url, key, schedule_id, start) == app.bob.name

    # Bob asks Dave to take it, in his own browser.
    bob = new_page(browser, viewport={"width": 1280, "height": 900})
    sign_in(bob, app.base_url, app.bob.email, app.bob.password, f"/schedules/{schedule_id}")
    bob.wait_for_url(f"{app.base_url}/schedules/{schedule_id}**")
    first = bob.get_by_test_id("my-shift").first
    expect(first).to_contain_text(f"{fmt(start, UTC)} → {fmt(end, UTC)}")  # Bob's zone: UTC
    first.get_by_role("button", name="Request swap").click()
    form = bob.get_by_test_id("swap-form")
    form.locator("select[name=counterpart_id]").select_option(label=app.dave.name)
    form.locator("input[name=reason]").fill("dentist")
    form.get_by_role("button", name="Send request").click()
    row = bob.get_by_test_id("swap-row").filter(has_text=f"{app.bob.name} → {app.dave.name}")
    expect(row).to_contain_text("requested")
    expect(row.get_by_role("button", name="Accept")).to_have_count(0)  # not Bob's to accept

    # Dave accepts in another browser context, signed in as himself.
    dave = new_page(browser, viewport={"width": 1280, "height": 900})
    sign_in(dave, app.base_url, app.dave.email, app.dave.password, f"/schedules/{schedule_id}")
    dave.wait_for_url(f"{app.base_url}/schedules/{schedule_id}**")
    dave_row = dave.get_by_test_id("swap-row").filter(has_text=app.bob.name)
    dave_row.get_by_role("button", name="Accept").click()
    expect(dave_row).to_contain_text("accepted")
    expect(dave_row.get_by_role("button", name="Accept")).to_have_count(0)

    # The final row shows Dave's swapped shift, with its times on hover...
    swap_bar = dave.locator("[data-testid=timeline] [data-row=final] [data-kind=swap]")
    expect(swap_bar).to_have_count(1)
    expect(swap_bar).to_contain_text(f"{app.dave.name} (swap)")
    expect(swap_bar).to_have_attribute(
        "title", re.compile(re.escape(f"{fmt(start, UTC)} → {fmt(end, UTC)}"))
    )
    # ... Bob's page follows live ...
    expect(row).to_contain_text("accepted")
    expect(bob.locator("[data-row=final] [data-kind=swap]")).to_have_count(1)
    dave.screenshot(path=app.screenshots / "schedule_swap.png", full_page=True)

    # ... and the API agrees at both ends of the swapped shift.
    second = timedelta(seconds=1)
    assert _oncall_at(app.base_url, key, schedule_id, start) == app.dave.name
    assert _oncall_at(app.base_url, key, schedule_id, end - second) == app.dave.name
    assert _oncall_at(app.base_url, key, schedule_id, end) == app.carol.name
    assert _oncall_at(app.base_url, key, schedule_id, start - second) != app.dave.name
    for page in (admin, bob, dave):
        page.context.close()


def test_schedule_feed_agrees_with_the_api_and_revoking_it_ends_it(
    running_app: RunningApp, browser: object
) -> None:
    app = running_app
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    sign_in(page, app.base_url, app.admin.email, app.admin.password, "/teams")
    page.wait_for_url(f"{app.base_url}/teams**")
    team = _team(page, app, "Search", (app.bob, app.carol))
    schedule_id = _create_schedule(page, app.base_url, team, f"Draft {uuid.uuid4().hex[:4]}", "UTC")

    # Rename it and move it to New York from the detail page.
    name = f"Search primary {uuid.uuid4().hex[:4]}"
    page.get_by_role("button", name="Edit", exact=True).click()
    edit = page.get_by_test_id("edit-schedule-form")
    edit.locator("input[name=name]").fill(name)
    edit.locator("select[name=time_zone]").select_option("America/New_York")
    edit.locator("textarea[name=description]").fill("Search API and indexers")
    edit.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_title("The schedule's zone")).to_have_text("America/New_York")
    expect(page.get_by_text("Search API and indexers")).to_be_visible()
    expect(edit).to_have_count(0)

    _add_rotation(page, "Daily", (app.bob, app.carol), "09:00")
    key = _api_key(page, app.base_url)
    page.goto(f"{app.base_url}/schedules/{schedule_id}")
    page.get_by_role("button", name="New feed URL").click()
    url_box = page.get_by_test_id("feed-url")
    expect(url_box).to_have_value(re.compile(r"^http.*/api/calendar/[^/]+\.ics$"))
    url = url_box.input_value()
    expect(page.get_by_test_id("feed-row")).to_have_count(1)

    response = httpx2.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    now = datetime.now(UTC)
    start, end = now, now + timedelta(days=7)
    calendar = icalendar.Calendar.from_ical(response.content)
    events = recurring_ical_events.of(calendar).between(start, end)
    feed = sorted(
        (e["DTSTART"].dt, e["DTEND"].dt, str(e["SUMMARY"]))
        for e in events
        if start < e["DTSTART"].dt < end
    )
    api = [
        (_at(s["start"]), _at(s["end"]), f"On call: {s['user_name']} ({name})")
        for s in _shifts(app.base_url, key, schedule_id, start, end)
        if _at(s["start"]) > start
    ]
    assert len(api) >= 6  # a handoff every day of the week
    # Every handoff of the next week, at 09:00 New York (DST included), is an event start.
    assert [x[0] for x in feed] == [x[0] for x in api]
    assert {x[0].astimezone(ZoneInfo("America/New_York")).hour for x in feed} == {9}
    assert [x[2] for x in feed] == [x[2] for x in api]
    # The API clips the last shift at the window's end; the feed has it whole.
    assert [x[1] for x in feed[:-1]] == [x[1] for x in api[:-1]]

    # Revoked in the UI, the URL answers 404.
    page.get_by_test_id("feed-row").get_by_role("button", name="Revoke").click()
    expect(page.get_by_test_id("feed-row")).to_have_count(0)
    assert httpx2.get(url, timeout=10).status_code == 404
    page.context.close()
