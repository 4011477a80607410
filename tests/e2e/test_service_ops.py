"""A team admin manages a service's heartbeat monitors and maintenance windows on its page,
and routing rules on /routing-rules: bad input is explained beside the field and changes
nothing; the check-in URL shown once really checks the monitor in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import create_service, create_team, new_page, sign_in

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}


def _local(instant: datetime) -> str:
    """A ``datetime-local`` value; the admin's profile zone is UTC."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def test_heartbeats_maintenance_windows_and_routing_rules(
    running_app: RunningApp, browser: object
) -> None:
    app = running_app
    tag = uuid.uuid4().hex[:6]
    team, service = f"Ops {tag}", f"Backups {tag}"
    page = new_page(browser, viewport=DESKTOP)
    sign_in(page, app.base_url, app.admin.email, app.admin.password, "/teams")
    page.wait_for_url(f"{app.base_url}/teams**")
    create_team(page, team)
    create_service(page, app.base_url, team, service)
    service_url = page.url

    # Heartbeats: a non-number interval is refused beside its field and creates nothing.
    form = page.get_by_test_id("heartbeat-form")
    form.locator("input[name=name]").fill(f"nightly {tag}")
    form.locator("input[name=interval_minutes]").fill("soon")
    form.get_by_role("button", name="Add heartbeat").click()
    expect(form).to_contain_text("A whole number of minutes")
    expect(page.get_by_test_id("heartbeat-row")).to_have_count(0)

    form.locator("input[name=interval_minutes]").fill("10")
    form.get_by_role("button", name="Add heartbeat").click()
    row = page.get_by_test_id("heartbeat-row").filter(has_text=f"nightly {tag}")
    expect(row).to_contain_text("pending")
    expect(row).to_contain_text("every 10 min")
    check_in = page.get_by_test_id("check-in-url").input_value()
    assert check_in.startswith(f"{app.base_url}/api/v1/heartbeats/"), check_in
    answer = httpx2.post(check_in, timeout=10)
    assert answer.status_code == 200, answer.text
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_test_id("check-in-url")).to_have_count(0)
    page.goto(service_url)
    expect(row).to_contain_text("up")

    # Maintenance windows: an end before the start is refused; a window now is in progress.
    now = datetime.now(UTC)
    windows = page.get_by_test_id("maintenance-form")
    windows.locator("input[name=starts_at]").fill(_local(now + timedelta(hours=2)))
    windows.locator("input[name=ends_at]").fill(_local(now + timedelta(hours=1)))
    windows.locator("input[name=reason]").fill(f"upgrade {tag}")
    windows.get_by_role("button", name="Schedule window").click()
    expect(windows).to_contain_text("after")
    expect(page.get_by_test_id("maintenance-row")).to_have_count(0)
    windows.locator("input[name=starts_at]").fill(_local(now - timedelta(minutes=5)))
    windows.locator("input[name=ends_at]").fill(_local(now + timedelta(hours=1)))
    windows.get_by_role("button", name="Schedule window").click()
    window = page.get_by_test_id("maintenance-row").filter(has_text=f"upgrade {tag}")
    expect(window).to_contain_text("in progress")
    page.screenshot(path=app.screenshots / "service_ops.png", full_page=True)
    window.get_by_role("button", name="Cancel").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_test_id("maintenance-row")).to_have_count(0)

    # Routing rules: an unreadable matcher line is refused; a good rule is listed.
    page.goto(f"{app.base_url}/routing-rules")
    rules = page.get_by_test_id("routing-rule-form")
    rules.locator("input[name=name]").fill(f"backups {tag}")
    rules.locator("select[name=target_service_id]").select_option(label=service)
    rules.locator("textarea[name=matchers]").fill("job backup")
    rules.get_by_role("button", name="Add rule").click()
    expect(rules).to_contain_text("Line 1")
    expect(page.get_by_test_id("routing-rule-row").filter(has_text=tag)).to_have_count(0)
    rules.locator("textarea[name=matchers]").fill(f"job = backup-{tag}\nenv =~ prod|staging")
    rules.get_by_role("button", name="Add rule").click()
    rule = page.get_by_test_id("routing-rule-row").filter(has_text=f"backups {tag}")
    expect(rule).to_contain_text(f"job = backup-{tag}, env =~ prod|staging")
    expect(rule).to_contain_text("every integration")
    expect(rule).to_contain_text(service)
    page.screenshot(path=app.screenshots / "routing_rules.png", full_page=True)
    rule.get_by_role("button", name="Delete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(rule).to_have_count(0)
