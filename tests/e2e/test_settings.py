"""Profile and API key pages end to end."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import new_page, sign_in

pytestmark = pytest.mark.e2e


def test_profile_shows_field_errors_inline_and_saves(
    running_app: RunningApp, browser: object
) -> None:
    app = running_app
    page = new_page(browser)
    sign_in(page, app.base_url, app.carol.email, app.carol.password, "/profile")
    page.wait_for_url(f"{app.base_url}/profile**")
    form = page.get_by_test_id("profile-form")
    form.locator("input[name=phone]").fill("12345")
    form.get_by_role("button", name="Save profile").click()
    expect(form.get_by_role("alert")).to_contain_text("international format")

    form.locator("input[name=phone]").fill("+14155550100")
    form.locator("select[name=time_zone]").select_option("Europe/Berlin")
    form.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Profile saved")).to_be_visible()
    expect(form.get_by_role("alert")).to_have_count(0)

    page.reload()
    expect(page.get_by_test_id("profile-form").locator("select[name=time_zone]")).to_have_value(
        "Europe/Berlin"
    )
    page.context.close()


def test_api_key_is_shown_once_listed_and_revoked(running_app: RunningApp, browser: object) -> None:
    app = running_app
    page = new_page(browser, viewport={"width": 1280, "height": 900})
    sign_in(page, app.base_url, app.admin.email, app.admin.password, "/settings/api-keys")
    page.wait_for_url(f"{app.base_url}/settings/api-keys**")

    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("at least 1 item")).to_be_visible()  # no scope chosen

    page.locator("input[name=name]").fill("terraform")
    page.get_by_role("checkbox", name="teams:read").click()
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_test_id("new-api-key")
    expect(key).to_contain_text("oc_")
    expect(page.locator("input[name=name]")).to_have_value("")  # the form starts over
    row = page.get_by_role("row").filter(has_text="terraform")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("teams:read")
    page.screenshot(path=app.screenshots / "api_keys.png", full_page=True)

    page.get_by_role("button", name="I have stored it").click()
    expect(key).to_have_count(0)
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Revoke").click()
    expect(row).to_contain_text("revoked")
    expect(row.get_by_role("button", name="Revoke")).to_have_count(0)
    page.context.close()
