"""The incident dashboard end to end (INC-03, ROUTE-01/03).

A team admin builds a team with Bob as responder, an escalation policy paging Bob in the
editor (and checks the paging preview), a service and a generic integration. With /incidents
open in two browser contexts (admin and Bob), a signed alert posted to the webhook appears in
both without a reload, with a toast; the admin acknowledges on the detail page (status flips,
the timeline says so, Bob's list follows live), the escalation's page request to Bob is on the
timeline and in the outbox, and resolving with a markdown note puts the rendered note on the
timeline. Bulk acknowledge reports each incident; the phone layout has large actions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid

import httpx2
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import create_team, new_page, sign_in

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# The target is one second; a loaded 2-core CI machine gets some slack.
LIVE_TIMEOUT_MS = 3_000


def _signed_post(url: str, secret: str, payload: dict[str, object]) -> httpx2.Response:
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return httpx2.post(
        url,
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-OnCall-Timestamp": stamp,
            "X-OnCall-Signature": f"v1={digest}",
        },
        timeout=10,
    )


def _alert(url: str, secret: str, title: str, key: str, **extra: object) -> int:
    response = _signed_post(url, secret, {"title": title, "dedup_key": key, **extra})
    assert response.status_code == 202, response.text
    return int(response.json()["alerts"][0]["incident_id"])


def _team_with_bob(page: Page, app: RunningApp, team: str) -> None:
    page.goto(f"{app.base_url}/teams")
    create_team(page, team)
    page.get_by_test_id("team-card").filter(has_text=team).get_by_role("link", name=team).click()
    page.wait_for_url(f"{app.base_url}/teams/**")
    form = page.get_by_test_id("add-member-form")
    form.locator("select[name=user_id]").select_option(label=f"{app.bob.name} <{app.bob.email}>")
    form.locator("select[name=role]").select_option("RESPONDER")
    form.get_by_role("button", name="Add member").click()
    expect(page.get_by_test_id("member-row").filter(has_text=app.bob.email)).to_be_visible()


def _policy(page: Page, app: RunningApp, team: str, name: str) -> None:
    """In the editor: one level paging Bob after which we wait 5 minutes, repeated once."""
    page.goto(f"{app.base_url}/escalation")
    page.get_by_role("button", name="New policy").click()
    editor = page.get_by_test_id("policy-editor")
    editor.locator("select[name=team_id]").select_option(label=team)
    editor.locator("input[name=name]").fill(name)
    level = editor.get_by_test_id("level-editor").first
    level.locator("select[name=add_target]").select_option(label=app.bob.name)
    expect(level.get_by_test_id("level-target")).to_contain_text(app.bob.name)
    timeout = level.get_by_label("Timeout minutes of level 1")
    timeout.fill("5")
    timeout.blur()
    editor.locator("select[name=repeat]").select_option("1")
    page.screenshot(path=app.screenshots / "escalation_editor.png", full_page=True)
    editor.get_by_role("button", name="Save policy").click()
    card = page.get_by_test_id("policy-card").filter(has_text=name)
    expect(card).to_contain_text("default")  # a team's first policy is its default
    expect(card).to_contain_text(f"Level 1: {app.bob.name} · then 5 min")
    expect(card).to_contain_text("Repeats 1 time(s)")


def _service_and_integration(
    page: Page, app: RunningApp, team: str, tag: str
) -> tuple[str, str, str]:
    service = f"Payments {tag}"
    page.goto(f"{app.base_url}/services")
    page.get_by_role("button", name="New service").click()
    form = page.get_by_test_id("create-service-form")
    form.locator("input[name=name]").fill(service)
    form.locator("select[name=team_id]").select_option(label=team)
    form.get_by_role("button", name="Create service").click()
    page.wait_for_url(re.compile(r"/services/\d+"))
    page.goto(f"{app.base_url}/integrations")
    page.get_by_role("button", name="New integration").click()
    form = page.get_by_test_id("create-integration-form")
    form.locator("select[name=service_id]").select_option(label=service)
    form.locator("select[name=type]").select_option("generic")
    form.locator("input[name=name]").fill(f"Generic {tag}")
    form.get_by_role("button", name="Create integration").click()
    expect(page.get_by_test_id("secret-box")).to_contain_text("shown only once")
    secret = page.get_by_test_id("new-secret").inner_text().strip()
    url = page.get_by_test_id("new-url").inner_text().strip()
    return service, url, secret


def _row(page: Page, incident_id: int):
    return page.locator(f"[data-testid=incident-row][data-incident-id='{incident_id}']")


def test_incident_dashboard_live_in_two_browsers(running_app: RunningApp, browser: object) -> None:
    app = running_app
    tag = uuid.uuid4().hex[:6]
    team = f"Payments team {tag}"
    admin = new_page(browser, viewport=DESKTOP)
    sign_in(admin, app.base_url, app.admin.email, app.admin.password, "/teams")
    admin.wait_for_url(f"{app.base_url}/teams**")
    _team_with_bob(admin, app, team)
    _policy(admin, app, team, f"Primary {tag}")
    service, url, secret = _service_and_integration(admin, app, team, tag)

    # The paging preview for the service: Bob at minute 0 and again at minute 5.
    admin.goto(f"{app.base_url}/escalation")
    admin.get_by_label("Preview service").select_option(label=service)
    admin.get_by_role("button", name="Preview").click()
    preview = admin.get_by_test_id("paging-preview")
    expect(preview).to_contain_text(f"Primary {tag}")
    steps = preview.get_by_test_id("preview-step")
    expect(steps).to_have_count(2)
    expect(steps.nth(0)).to_contain_text("min 0")
    expect(steps.nth(0)).to_contain_text(app.bob.name)
    expect(steps.nth(1)).to_contain_text("min 5")
    admin.screenshot(path=app.screenshots / "escalation_policies.png", full_page=True)

    # Two browsers on the dashboard, neither reloads from here on.
    admin.goto(f"{app.base_url}/incidents")
    expect(admin.get_by_test_id("incident-metrics")).to_be_visible()
    bob = new_page(browser, viewport=DESKTOP)
    sign_in(bob, app.base_url, app.bob.email, app.bob.password, "/incidents")
    bob.wait_for_url(f"{app.base_url}/incidents**")
    expect(bob.get_by_test_id("incident-metrics")).to_be_visible()
    for p in (admin, bob):
        expect(p.get_by_text("Loading…")).to_have_count(0)
        p.evaluate("window.__noReload = true")
    open_before = int(admin.get_by_test_id("metric-open").inner_text())

    title = f"Checkout latency p99 > 2s ({tag})"
    posted = time.monotonic()
    incident_id = _alert(
        url,
        secret,
        title,
        f"latency-{tag}",
        severity="critical",
        source="prometheus",
        labels={"env": "prod", "region": "eu-1"},
        links=[{"title": "Grafana", "url": "https://grafana.example/d/checkout"}],
    )
    for p in (admin, bob):
        expect(_row(p, incident_id)).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    latency = time.monotonic() - posted
    assert latency < LIVE_TIMEOUT_MS / 1000, latency
    for p in (admin, bob):
        expect(_row(p, incident_id)).to_have_attribute("data-status", "OPEN")
        expect(_row(p, incident_id)).to_contain_text(title)
        expect(_row(p, incident_id)).to_contain_text(service)
        expect(
            p.locator("[data-sonner-toast]").filter(has_text=f"opened #{incident_id}")
        ).to_be_visible()
        assert p.evaluate("window.__noReload") is True
    expect(admin.get_by_test_id("metric-open")).to_have_text(str(open_before + 1))
    admin.screenshot(path=app.screenshots / "incidents_dashboard.png", full_page=True)

    # The detail page: header, alert details and links, the page request to Bob.
    _row(admin, incident_id).get_by_role("link").first.click()
    admin.wait_for_url(f"{app.base_url}/incidents/{incident_id}")
    header = admin.get_by_test_id("incident-header")
    expect(header).to_have_attribute("data-status", "OPEN")
    expect(header).to_contain_text(title)
    expect(header).to_contain_text("CRITICAL")
    alert = admin.get_by_test_id("incident-alert").first
    expect(alert).to_contain_text("env=prod")
    expect(alert.get_by_role("link", name="Grafana")).to_have_attribute(
        "href", "https://grafana.example/d/checkout"
    )
    timeline = admin.get_by_test_id("timeline")
    expect(timeline.locator("[data-kind=page_requested]").first).to_contain_text(
        app.bob.name, timeout=10_000
    )
    expect(admin.get_by_test_id("page-request").first).to_contain_text(app.bob.name)
    # The delivery log is drawn (its rows are unit-tested: Bob may have no contact method here).
    expect(admin.get_by_test_id("delivery-log")).to_contain_text("Delivery log")

    # Acknowledge: the header flips, the timeline says so, Bob's list follows live.
    admin.get_by_test_id("incident-actions").get_by_role("button", name="Acknowledge").click()
    expect(header).to_have_attribute("data-status", "ACKNOWLEDGED")
    expect(timeline.locator("[data-kind=acknowledged]")).to_contain_text(app.admin.email)
    expect(admin.get_by_test_id("assignee")).to_have_text(app.admin.name)
    expect(_row(bob, incident_id)).to_have_attribute(
        "data-status", "ACKNOWLEDGED", timeout=LIVE_TIMEOUT_MS
    )
    expect(
        bob.locator("[data-sonner-toast]").filter(
            has_text=f"{app.admin.email} acknowledged #{incident_id}"
        )
    ).to_be_visible()

    # A note in markdown, then resolve with a resolution note: both rendered on the timeline.
    composer = admin.get_by_label("Note")
    composer.fill("Rolled back **build 812**; watching `p99`.")
    admin.get_by_role("button", name="Add note").click()
    note = timeline.locator("[data-kind=note]").last
    expect(note.locator("strong")).to_have_text("build 812")
    expect(note.locator("code")).to_have_text("p99")
    admin.get_by_test_id("incident-actions").get_by_role("button", name="Resolve").click()
    dialog = admin.get_by_test_id("resolve-dialog")
    dialog.get_by_label("Resolution note").fill("Fixed by the **rollback**.")
    dialog.get_by_role("button", name="Resolve").click()
    expect(header).to_have_attribute("data-status", "RESOLVED")
    resolved = timeline.locator("[data-kind=resolved]")
    expect(resolved).to_contain_text(app.admin.email)
    expect(resolved.locator("strong")).to_have_text("rollback")
    expect(_row(bob, incident_id)).to_have_count(0, timeout=LIVE_TIMEOUT_MS)  # active filter
    admin.screenshot(path=app.screenshots / "incident_detail.png", full_page=True)

    # Outbox: the page request, with the honest note about delivery.
    admin.goto(f"{app.base_url}/outbox")
    expect(
        admin.get_by_text("Each becomes one notification per verified contact method")
    ).to_be_visible()
    expect(
        admin.get_by_test_id("outbox-row").filter(has_text=f"#{incident_id}").first
    ).to_contain_text(app.bob.name)

    # Bulk acknowledge on Bob's dashboard: one result per incident.
    ids = [_alert(url, secret, f"Queue backlog {n} ({tag})", f"queue-{n}-{tag}") for n in (1, 2)]
    # Both rows first, then select: a row arriving live between two clicks re-renders the list
    # (seen in CI once in three runs: the first selection did not show).
    for ident in ids:
        expect(_row(bob, ident)).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    for ident in ids:
        _row(bob, ident).get_by_role("checkbox").click()
        expect(_row(bob, ident).get_by_role("checkbox")).to_be_checked()
    bob.get_by_role("button", name="Acknowledge selected").click()
    results = bob.get_by_test_id("bulk-result")
    expect(results).to_have_count(2)
    expect(bob.locator("[data-testid=bulk-result][data-ok=true]")).to_have_count(2)
    for ident in ids:
        expect(_row(bob, ident)).to_have_attribute("data-status", "ACKNOWLEDGED")

    # Phone width: rows fold into cards whose actions are large, full-width buttons.
    phone_id = _alert(url, secret, f"Phone check ({tag})", f"phone-{tag}", severity="high")
    phone = new_page(browser, **PHONE)
    sign_in(phone, app.base_url, app.bob.email, app.bob.password, "/incidents")
    phone.wait_for_url(f"{app.base_url}/incidents**")
    card = _row(phone, phone_id)
    expect(card).to_be_visible()
    ack = card.get_by_role("button", name="Acknowledge")
    box = ack.bounding_box()
    assert box is not None
    assert box["height"] >= 40, box
    assert box["width"] >= 140, box
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"horizontal scroll on a phone: {width}px"
    phone.screenshot(path=app.screenshots / "incidents_phone.png", full_page=True)
    ack.click()  # optimistic: the card flips at once
    expect(card).to_have_attribute("data-status", "ACKNOWLEDGED")
    phone.goto(f"{app.base_url}/incidents/{phone_id}")
    expect(phone.get_by_test_id("incident-header")).to_have_attribute("data-status", "ACKNOWLEDGED")
    phone.screenshot(path=app.screenshots / "incident_detail_phone.png", full_page=True)

    # Optimistic acknowledge rolls back when the service refuses: Dave is in no team.
    refused_id = _alert(url, secret, f"Refused ack ({tag})", f"refused-{tag}")
    dave = new_page(browser, viewport=DESKTOP)
    sign_in(dave, app.base_url, app.dave.email, app.dave.password, "/incidents")
    dave.wait_for_url(f"{app.base_url}/incidents**")
    refused = _row(dave, refused_id)
    expect(refused).to_have_attribute("data-status", "OPEN")
    refused.get_by_role("button", name="Acknowledge").click()
    expect(
        dave.locator("[data-sonner-toast]").filter(has_text=f"#{refused_id} not acknowledged")
    ).to_be_visible()
    expect(refused).to_have_attribute("data-status", "OPEN")

    # Saved filters: save, clear, apply, delete.
    admin.goto(f"{app.base_url}/incidents")
    severity = admin.get_by_label("Severity", exact=True)
    severity.select_option("CRITICAL")
    admin.get_by_label("Preset name").fill(f"Critical {tag}")
    admin.get_by_role("button", name="Save filters").click()
    preset = admin.get_by_test_id("preset").filter(has_text=f"Critical {tag}")
    expect(preset).to_be_visible()
    admin.get_by_role("button", name="Clear").click()
    expect(severity).to_have_value("")
    preset.get_by_text(f"Critical {tag}").click()
    expect(severity).to_have_value("CRITICAL")
    expect(admin.get_by_label("Status", exact=True)).to_have_value("active")
    preset.get_by_label("Delete saved filter").click()
    expect(preset).to_have_count(0)

    # Edit the priority of an acknowledged incident; close the resolved one.
    admin.goto(f"{app.base_url}/incidents/{ids[0]}")
    admin.get_by_role("button", name="Edit").click()
    admin.get_by_role("dialog").locator("select[name=priority]").select_option("P1")
    admin.get_by_role("dialog").get_by_role("button", name="Save").click()
    expect(admin.get_by_test_id("incident-header")).to_contain_text("P1")
    expect(admin.get_by_test_id("timeline").locator("[data-kind=edited]")).to_contain_text(
        "priority"
    )
    admin.goto(f"{app.base_url}/incidents/{incident_id}")
    admin.get_by_role("button", name="Close").click()
    expect(admin.get_by_test_id("incident-header")).to_have_attribute("data-status", "CLOSED")

    # A policy active incidents escalate with is not deleted: the 409 arrives as a toast.
    admin.goto(f"{app.base_url}/escalation")
    admin.get_by_test_id("policy-card").filter(has_text=f"Primary {tag}").get_by_role(
        "button", name="Delete"
    ).click()
    admin.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(
        admin.locator("[data-sonner-toast]").filter(has_text="used by active incidents")
    ).to_be_visible()
    expect(admin.get_by_test_id("policy-card").filter(has_text=f"Primary {tag}")).to_be_visible()

    # Reassign from the detail page's picker (team members who respond).
    admin.goto(f"{app.base_url}/incidents/{ids[1]}")
    expect(admin.get_by_test_id("assignee")).to_have_text(app.bob.name)
    admin.get_by_label("Reassign").select_option(label=app.admin.name)
    expect(admin.get_by_test_id("assignee")).to_have_text(app.admin.name)
    expect(admin.get_by_test_id("timeline").locator("[data-kind=reassigned]")).to_be_visible()

    # Escalate now: Bob, watching the same incident's page, sees the new level fire live.
    bob.goto(f"{app.base_url}/incidents/{refused_id}")
    bob_escalations = bob.get_by_test_id("timeline").locator("[data-kind=escalated]")
    expect(bob_escalations).to_have_count(1)
    bob.evaluate("window.__noReload = true")
    admin.goto(f"{app.base_url}/incidents/{refused_id}")
    admin.get_by_role("button", name="Escalate now").click()
    expect(bob.get_by_test_id("page-request")).to_have_count(2, timeout=LIVE_TIMEOUT_MS)
    expect(bob_escalations).not_to_have_count(1)
    assert bob.evaluate("window.__noReload") is True

    # Home lists open incidents, newest first.
    admin.goto(f"{app.base_url}/")
    home = admin.get_by_test_id("home-open-incidents")
    expect(home).to_contain_text(f"#{refused_id} Refused ack ({tag})")
    expect(home).not_to_contain_text(f"#{incident_id} ")
