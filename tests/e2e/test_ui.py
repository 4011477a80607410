"""The UI end to end: sign-in, teams, members, audit, live push, phone layout."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid

import httpx2
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import create_team, new_page, sign_in

pytestmark = pytest.mark.e2e


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def test_sign_in_create_team_add_member_and_see_it_audited(
    running_app: RunningApp, browser: object
) -> None:
    app = running_app
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    sign_in(page, app.base_url, app.admin.email, app.admin.password, "/teams")
    page.wait_for_url(f"{app.base_url}/teams**")
    team = _unique("Platform")

    create_team(page, team, org_tags="engineering, eu", tech_tags="kubernetes")
    card = page.get_by_test_id("team-card").filter(has_text=team)
    expect(card).to_be_visible()
    expect(card).to_contain_text("engineering")

    card.get_by_role("link", name=team).click()
    page.wait_for_url(f"{app.base_url}/teams/**")
    form = page.get_by_test_id("add-member-form")
    form.locator("select[name=user_id]").select_option(label=f"{app.bob.name} <{app.bob.email}>")
    form.locator("select[name=role]").select_option("OBSERVER")
    form.get_by_role("button", name="Add member").click()
    row = page.get_by_test_id("member-row").filter(has_text=app.bob.email)
    expect(row).to_be_visible()
    expect(row.locator("select")).to_have_value("OBSERVER")
    page.screenshot(path=app.screenshots / "team_detail.png", full_page=True)

    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url(f"{app.base_url}/audit**")
    rows = page.get_by_test_id("audit-row")
    added = rows.filter(has_text="teams.member.added").filter(has_text=team)
    expect(added).to_be_visible()
    expect(added).to_contain_text(app.admin.email)
    expect(added).to_contain_text("OBSERVER")
    expect(rows.filter(has_text="teams.team.created").filter(has_text=team)).to_be_visible()
    page.screenshot(path=app.screenshots / "audit.png", full_page=True)
    page.context.close()


def test_wrong_password_shows_generic_error_and_creates_no_session(
    running_app: RunningApp, browser: object
) -> None:
    app = running_app
    page = new_page(browser)
    sign_in(page, app.base_url, app.carol.email, "not-the-password", "/teams")
    page.wait_for_url(re.compile(r"/login/?\?.*error=invalid_credentials"))
    expect(page.get_by_test_id("login-error")).to_have_text("Invalid e-mail or password.")
    assert not [c for c in page.context.cookies() if c["name"] == "oncall_session"]

    page.goto(f"{app.base_url}/teams")
    page.wait_for_url(re.compile(r"/login/?\?next="))
    page.screenshot(path=app.screenshots / "login_error.png")
    page.context.close()


def test_team_created_in_one_browser_appears_live_in_another(
    running_app: RunningApp, browser: object
) -> None:
    app = running_app
    watcher = new_page(browser)
    sign_in(watcher, app.base_url, app.bob.email, app.bob.password, "/teams")
    watcher.wait_for_url(f"{app.base_url}/teams**")
    expect(watcher.get_by_role("button", name="New team")).to_be_visible()
    expect(watcher.get_by_text("Loading…")).to_have_count(0)
    watcher.evaluate("window.__noReload = true")

    actor = new_page(browser)
    sign_in(actor, app.base_url, app.admin.email, app.admin.password, "/teams")
    actor.wait_for_url(f"{app.base_url}/teams**")
    team = _unique("Live")
    create_team(actor, team)
    expect(actor.get_by_test_id("team-card").filter(has_text=team)).to_be_visible()

    # Pushed over the websocket: no reload, no polling, within about two seconds.
    expect(watcher.get_by_test_id("team-card").filter(has_text=team)).to_be_visible(timeout=2_500)
    expect(watcher.get_by_text(f"{app.admin.email} created {team}")).to_be_visible(timeout=2_500)
    assert watcher.evaluate("window.__noReload") is True
    watcher.context.close()
    actor.context.close()


def test_phone_width_teams_page_has_reachable_navigation(
    running_app: RunningApp, browser: object
) -> None:
    app = running_app
    page = new_page(browser, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(page, app.base_url, app.bob.email, app.bob.password, "/teams")
    page.wait_for_url(f"{app.base_url}/teams**")
    expect(page.get_by_role("button", name="New team")).to_be_visible()
    nav = page.get_by_test_id("bottom-nav")
    expect(nav).to_be_visible()
    expect(page.get_by_test_id("sidebar-nav")).to_be_hidden()
    page.screenshot(path=app.screenshots / "teams_phone.png")

    for label in ("Home", "Incidents", "Teams", "Audit", "Menu"):
        box = nav.get_by_role("link", name=label).bounding_box()
        assert box is not None
        assert box["height"] >= 44, f"{label} tap target is {box['height']}px tall"
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390

    nav.get_by_role("link", name="Menu").tap()
    page.wait_for_url(f"{app.base_url}/menu**")
    expect(page.get_by_role("link", name="Escalation policies")).to_be_visible()
    expect(page.get_by_role("main").get_by_test_id("sign-out")).to_be_visible()
    page.screenshot(path=app.screenshots / "menu_phone.png", full_page=True)

    # Sign out is a plain form post: the session ends and the cookie is gone.
    page.get_by_role("main").get_by_role("button", name="Sign out").tap()
    page.wait_for_url(re.compile(r"/login/?$"))
    assert not [c for c in page.context.cookies() if c["name"] == "oncall_session"]
    page.goto(f"{app.base_url}/teams")
    page.wait_for_url(re.compile(r"/login/?\?next="))
    page.context.close()


def test_revoked_session_sends_open_tab_to_login(running_app: RunningApp, browser: object) -> None:
    """USER-01: the IdP hook revokes a user's sessions; their open tab loses live access."""
    app = running_app
    page = new_page(browser)
    sign_in(page, app.base_url, app.dave.email, app.dave.password, "/teams")
    page.wait_for_url(f"{app.base_url}/teams**")
    expect(page.get_by_role("button", name="New team")).to_be_visible()

    body = json.dumps({"event": "user.sessions.revoke", "email": app.dave.email}).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(app.idp_hook_secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    response = httpx2.post(
        f"{app.base_url}/api/v1/idp/events",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-OnCall-Timestamp": stamp,
            "X-OnCall-Signature": "v1=" + digest.hexdigest(),
        },
        timeout=10,
    )
    assert response.status_code < 300, response.text

    page.wait_for_url(re.compile(r"/login/?\?.*error=session_expired"), timeout=5_000)
    expect(page.get_by_test_id("login-error")).to_contain_text("session has ended")
    page.goto(f"{app.base_url}/teams")
    page.wait_for_url(re.compile(r"/login/?\?next="))
    page.context.close()
