"""Schedules end to end: a team admin builds a follow-the-sun schedule in the editor, covers a
vacation with an override, and the timeline agrees with ``GET /api/v1/schedules/{id}/oncall``
at the handoffs around it."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx2
import pytest
from playwright.sync_api import Page, expect

from oncall_app.state.schedules_view import fmt
from tests.e2e.conftest import RunningApp
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
    page.goto(f"{base_url}/settings/api-keys")
    page.locator("input[name=name]").fill(f"sched-{uuid.uuid4().hex[:6]}")
    page.get_by_role("checkbox", name="schedules:read").click()
    page.get_by_role("button", name="Create key").click()
    text = page.get_by_test_id("new-api-key").inner_text()
    match = re.search(r"oc_\S+", text)
    assert match, text
    return match.group(0)


def _oncall_at(base_url: str, key: str, schedule_id: str, at: datetime) -> str:
    response = httpx2.get(
        f"{base_url}/api/v1/schedules/{schedule_id}/oncall",
        params={"at": at.astimezone(UTC).isoformat()},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    shift = response.json()["shift"]
    return shift["user_name"] if shift else ""


def _local(day_offset: int, hour: int) -> datetime:
    today = datetime.now(BERLIN).date()
    return datetime.combine(today + timedelta(days=day_offset), time(hour), BERLIN)


def test_follow_the_sun_with_a_vacation_override(running_app: RunningApp, browser: object) -> None:
    app = running_app
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    sign_in(page, app.base_url, app.admin.email, app.admin.password, "/teams")
    page.wait_for_url(f"{app.base_url}/teams**")
    team = f"Payments {uuid.uuid4().hex[:6]}"
    create_team(page, team)
    page.get_by_test_id("team-card").filter(has_text=team).get_by_role("link", name=team).click()
    page.wait_for_url(f"{app.base_url}/teams/**")
    for account in (app.bob, app.carol, app.dave):
        _add_member(page, account.name, account.email)

    # Create the schedule in Berlin's zone.
    page.goto(f"{app.base_url}/schedules")
    page.get_by_role("button", name="New schedule").click()
    form = page.get_by_test_id("create-schedule-form")
    form.locator("select[name=team_id]").select_option(label=team)
    name = f"Follow the sun {uuid.uuid4().hex[:4]}"
    form.locator("input[name=name]").fill(name)
    form.locator("select[name=time_zone]").select_option("Europe/Berlin")
    form.get_by_role("button", name="Create schedule").click()
    page.wait_for_url(re.compile(r".*/schedules/\d+$"))
    schedule_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    expect(page.get_by_role("heading", name=name)).to_be_visible()

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
