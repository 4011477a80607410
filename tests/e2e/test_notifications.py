"""Notifications end to end (USER-03, USER-04, NOTIF-04 in the UI).

Bob adds an e-mail contact method on /notifications; the verification code arrives in the
outbox the platform admin sees on the same page, Bob enters it and the method is verified (the
"no verified method" warning goes away). A signed alert to a service whose policy pages Bob then
puts the page, addressed to Bob's e-mail, in the outbox (after Refresh or live).
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import click_clear_of_toasts, new_page, sign_in
from tests.e2e.test_incidents import (
    DESKTOP,
    PHONE,
    _alert,
    _policy,
    _service_and_integration,
    _team_with_bob,
)

pytestmark = pytest.mark.e2e


def test_contact_method_verified_from_the_outbox_then_paged(
    running_app: RunningApp, browser: object
) -> None:
    app = running_app
    tag = uuid.uuid4().hex[:6]
    team = f"Notif team {tag}"
    address = f"bob-{tag}@pager.test"

    bob = new_page(browser, viewport=DESKTOP)
    sign_in(bob, app.base_url, app.bob.email, app.bob.password, "/notifications")
    bob.wait_for_url(f"{app.base_url}/notifications**")
    expect(bob.get_by_test_id("unreachable-warning")).to_be_visible()
    expect(bob.get_by_text("High urgency")).to_be_visible()
    bob.get_by_placeholder("address, number or Slack member id").fill(address)
    bob.get_by_role("button", name="Add and send code").click()
    method = bob.get_by_test_id("contact-method").filter(has_text=address)
    expect(method).to_contain_text("not verified")

    admin = new_page(browser, viewport=DESKTOP)
    sign_in(admin, app.base_url, app.admin.email, app.admin.password, "/notifications")
    admin.wait_for_url(f"{app.base_url}/notifications**")
    expect(admin.get_by_text("Provider health")).to_be_visible()
    message = admin.get_by_test_id("outbox-message").filter(has_text=address).first
    for _ in range(20):
        if message.count():
            break
        admin.get_by_role("button", name="Refresh").click()
        admin.wait_for_timeout(500)
    expect(message).to_be_visible()
    # Not any six digits: the address itself may contain some.
    code = re.search(r"verification code is (\d{6})\b", message.inner_text())
    assert code, message.inner_text()

    method.get_by_test_id("verify-code").fill(code.group(1))
    method.get_by_role("button", name="Verify").click()
    expect(method.get_by_text("verified", exact=True)).to_be_visible()
    expect(bob.get_by_test_id("unreachable-warning")).to_have_count(0)
    bob.screenshot(path=app.screenshots / "notifications.png", full_page=True)

    # Rules: a second low-urgency step, then back to the defaults.
    bob.locator("input[name=delay]").nth(1).fill("10")
    click_clear_of_toasts(bob.get_by_role("button", name="Add step").nth(1))
    expect(bob.get_by_text("after 10 min")).to_be_visible()
    click_clear_of_toasts(bob.get_by_role("button", name="Reset to defaults").nth(1))
    expect(bob.get_by_text("after 10 min")).to_have_count(0)

    _team_with_bob(admin, app, team)
    _policy(admin, app, team, f"Notif policy {tag}")
    _service, url, secret = _service_and_integration(admin, app, team, tag)
    title = f"Disk full on db-{tag}"
    _alert(url, secret, title, f"disk-{tag}")

    admin.goto(f"{app.base_url}/notifications")
    page_msg = admin.get_by_test_id("outbox-message").filter(has_text=address).filter(has_text=tag)
    for _ in range(20):
        if page_msg.count():
            break
        admin.get_by_role("button", name="Refresh").click()
        admin.wait_for_timeout(500)
    expect(page_msg.first).to_be_visible()
    admin.screenshot(path=app.screenshots / "notifications_outbox.png", full_page=True)

    phone = new_page(browser, **PHONE)
    sign_in(phone, app.base_url, app.bob.email, app.bob.password, "/notifications")
    phone.wait_for_url(f"{app.base_url}/notifications**")
    expect(phone.get_by_test_id("contact-method").filter(has_text=address)).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.screenshot(path=app.screenshots / "notifications_phone.png", full_page=True)


def test_a_responder_reads_their_own_codes_names_a_method_in_a_rule_and_sets_quiet_hours(
    running_app: RunningApp, browser: object
) -> None:
    """Bob (no admin) reads his own verification code in "Your latest outbox messages", uses
    it, adds a rule step naming that one method, sets quiet hours (shown again after a
    reload), and sees a warning once his new team requires a voice method (USER-03)."""
    app = running_app
    tag = uuid.uuid4().hex[:6]
    address = f"bob-own-{tag}@pager.test"
    bob = new_page(browser, viewport=DESKTOP)
    sign_in(bob, app.base_url, app.bob.email, app.bob.password, "/notifications")
    bob.wait_for_url(f"{app.base_url}/notifications**")
    bob.get_by_placeholder("address, number or Slack member id").fill(address)
    bob.get_by_role("button", name="Add and send code").click()
    method = bob.get_by_test_id("contact-method").filter(has_text=address)
    expect(method).to_contain_text("not verified")

    mine = bob.get_by_test_id("my-outbox").get_by_test_id("outbox-message")
    message = mine.filter(has_text=address).first
    for _ in range(20):
        if message.count():
            break
        bob.wait_for_timeout(500)
        if bob.get_by_test_id("my-outbox").count():
            bob.get_by_test_id("my-outbox").get_by_role("button", name="Refresh").click()
        else:
            bob.reload()
    expect(message).to_be_visible()
    code = re.search(r"verification code is (\d{6})\b", message.inner_text())
    assert code, message.inner_text()
    method.get_by_test_id("verify-code").fill(code.group(1))
    method.get_by_role("button", name="Verify").click()
    expect(method.get_by_text("verified", exact=True)).to_be_visible()

    # A high-urgency step naming this one method.
    bob.get_by_test_id("step-target-high").click()
    bob.get_by_role("option", name=f"email {address}").click()
    bob.locator("input[name=delay]").first.fill("3")
    bob.get_by_role("button", name="Add step").first.click()
    step = bob.get_by_test_id("rule-step").filter(has_text=f"email {address}")
    expect(step).to_contain_text("after 3 min")

    bob.get_by_test_id("quiet-start").fill("22:00")
    bob.get_by_test_id("quiet-end").fill("07:00")
    bob.get_by_test_id("quiet-end").press("Enter")
    expect(bob.get_by_test_id("quiet-hours-now")).to_contain_text("between 22:00 and 07:00")
    bob.reload()
    expect(bob.get_by_test_id("quiet-start")).to_have_value("22:00")
    expect(bob.get_by_test_id("quiet-end")).to_have_value("07:00")
    expect(step).to_contain_text("after 3 min")
    bob.screenshot(path=app.screenshots / "notifications_responder.png", full_page=True)

    # USER-03: the team requires a verified voice method, which Bob does not have.
    team = f"Voice team {tag}"
    admin = new_page(browser, viewport=DESKTOP)
    sign_in(admin, app.base_url, app.admin.email, app.admin.password, "/teams")
    admin.wait_for_url(f"{app.base_url}/teams**")
    _team_with_bob(admin, app, team)
    admin.get_by_role("button", name="Edit", exact=True).click()
    admin.locator("input[name=required_channels]").fill("voice")
    admin.get_by_role("button", name="Save", exact=True).click()
    expect(admin.get_by_test_id("required-channels")).to_contain_text("voice")
    bob.reload()
    expect(bob.get_by_test_id("on-call-gap").filter(has_text=team)).to_contain_text(
        f"Team {team} requires a verified voice method"
    )
