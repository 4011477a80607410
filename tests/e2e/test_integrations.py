"""Integrations and alerts end to end: a team admin creates a generic integration in the UI,
reads its secret once, a monitoring tool (httpx here) posts correctly and badly signed alerts,
and the alert appears live on the Alerts page while the delivery log shows both deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import subprocess
import time
import uuid

import httpx2
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import RunningApp
from tests.e2e.helpers import create_service, create_team, new_page, sign_in

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


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


def _create_integration(page: Page, base_url: str, service: str, name: str) -> tuple[str, str]:
    """Create a generic integration on /integrations; returns (url, secret) from the page."""
    page.goto(f"{base_url}/integrations")
    page.get_by_role("button", name="New integration").click()
    form = page.get_by_test_id("create-integration-form")
    form.locator("select[name=service_id]").select_option(label=service)
    form.locator("select[name=type]").select_option("generic")
    form.locator("input[name=name]").fill(name)
    form.get_by_role("button", name="Create integration").click()
    box = page.get_by_test_id("secret-box")
    expect(box).to_contain_text("shown only once")
    secret = page.get_by_test_id("new-secret").inner_text().strip()
    url = page.get_by_test_id("new-url").inner_text().strip()
    assert len(secret) >= 40, secret
    curl = page.get_by_test_id("curl-example").inner_text()
    assert url in curl
    assert "X-OnCall-Signature: v1=$SIG" in curl
    assert secret in curl
    expect(page.get_by_test_id("integration-row").filter(has_text=name)).to_be_visible()
    # The example must work as shown: run it in a shell, exactly as a user would paste it.
    assert shutil.which("openssl"), "openssl is needed to run the curl example"
    assert shutil.which("curl"), "curl is needed to run the curl example"
    ran = subprocess.run(
        ["bash", "-c", curl], capture_output=True, text=True, timeout=30, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["outcome"] == "accepted", ran.stdout
    # The list's delivery counts follow live.
    expect(page.get_by_test_id("integration-row").filter(has_text=name)).to_contain_text(
        "1 accepted"
    )
    return url, secret


def test_generic_integration_alert_live_and_delivery_log(
    running_app: RunningApp, browser: object
) -> None:
    app = running_app
    tag = uuid.uuid4().hex[:6]
    team, service, name = f"Ingest {tag}", f"Checkout {tag}", f"Generic {tag}"
    page = new_page(browser, viewport=DESKTOP)
    sign_in(page, app.base_url, app.admin.email, app.admin.password, "/teams")
    page.wait_for_url(f"{app.base_url}/teams**")
    create_team(page, team)
    expect(page.get_by_test_id("team-card").filter(has_text=team)).to_be_visible()
    create_service(page, app.base_url, team, service)
    url, secret = _create_integration(page, app.base_url, service, name)
    assert url.startswith(f"{app.base_url}/api/v1/integrations/")
    assert url.endswith("/alerts")
    page.screenshot(path=app.screenshots / "integrations_created.png", full_page=True)

    # A second tab on the Alerts page, watching without reloading.
    alerts = page.context.new_page()
    alerts.goto(f"{app.base_url}/alerts")
    # Loaded: the curl example's alert is listed (and not marked new: it was there already).
    curl_row = alerts.get_by_test_id("alert-row").filter(has_text="Test alert from OnCall")
    expect(curl_row.first).to_have_attribute("data-fresh", "false")
    alerts.evaluate("window.__noReload = true")

    title = f"Disk almost full on db-{tag}"
    response = _signed_post(
        url, secret, {"title": title, "severity": "high", "dedup_key": f"disk-{tag}",
                      "source": "node-exporter", "labels": {"env": "prod"}},
    )  # fmt: skip
    assert response.status_code == 202, response.text
    result = response.json()
    assert result["outcome"] == "accepted"
    incident_id = result["alerts"][0]["incident_id"]

    row = alerts.get_by_test_id("alert-row").filter(has_text=title)
    expect(row).to_be_visible(timeout=5_000)
    expect(row).to_have_attribute("data-fresh", "true")
    expect(row).to_contain_text("HIGH")
    expect(row).to_contain_text("firing")
    expect(row).to_contain_text(service)
    expect(row).to_contain_text(f"incident #{incident_id}")
    assert alerts.evaluate("window.__noReload") is True
    alerts.screenshot(path=app.screenshots / "alerts_live.png", full_page=True)

    # Filters: severity LOW hides it, text search finds it again.
    alerts.get_by_label("Severity").select_option("LOW")
    expect(row).to_have_count(0)
    alerts.get_by_role("button", name="Clear filters").click()
    expect(row).to_be_visible()

    # Cursor pagination: 51 alerts matching a search fill one page and one "Load more".
    for n in range(51):
        bulk = _signed_post(url, secret, {"title": f"bulk-{tag} {n}", "dedup_key": f"b-{tag}"})
        assert bulk.status_code == 202, bulk.text
    alerts.get_by_placeholder("Search title").fill(f"bulk-{tag}")
    bulk_rows = alerts.get_by_test_id("alert-row").filter(has_text=f"bulk-{tag}")
    expect(bulk_rows).to_have_count(50)
    expect(bulk_rows.first).to_contain_text(f"bulk-{tag} 50")
    alerts.get_by_role("button", name="Load more").click()
    expect(bulk_rows).to_have_count(51)
    expect(bulk_rows.last).to_contain_text(f"bulk-{tag} 0")
    expect(alerts.get_by_text("No older alerts.")).to_be_visible()
    alerts.get_by_role("button", name="Clear filters").click()
    expect(alerts.get_by_placeholder("Search title")).to_have_value("")
    expect(alerts.get_by_role("button", name="Load more")).to_be_visible()

    # A forged signature: 401, logged as rejected with its reason, no alert.
    forged = _signed_post(url, "not-the-secret", {"title": f"forged {tag}"})
    assert forged.status_code == 401, forged.text
    assert forged.headers["content-type"].startswith("application/problem+json")

    page.goto(f"{app.base_url}/integrations")
    page.get_by_test_id("integration-row").filter(has_text=name).get_by_role(
        "link", name=name
    ).click()
    page.wait_for_url(re.compile(r"/integrations/\d+"))
    log = page.get_by_test_id("delivery-row")
    # Newest first, 50 a page: the forged delivery on top, then the bulk ones.
    expect(log).to_have_count(50)
    expect(log.first).to_have_attribute("data-outcome", "rejected")
    expect(log.first).to_contain_text("invalid_signature")
    expect(log.first).to_contain_text("HTTP 401")
    page.get_by_label("Outcome").select_option("rejected")
    expect(log).to_have_count(1)
    page.get_by_label("Outcome").select_option("accepted")
    expect(log).to_have_count(50)
    page.get_by_role("button", name="Load more").click()
    # The curl example, the disk alert and 51 bulk ones.
    expect(log).to_have_count(53)
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)
    page.get_by_label("Received").select_option("1h")
    expect(log).to_have_count(50)
    page.get_by_label("Outcome").select_option("")
    page.get_by_label("Received").select_option("")

    # Send test alert: toast and a result with links to the alert and its incident.
    page.get_by_role("button", name="Send test alert").click()
    expect(page.get_by_test_id("test-result")).to_contain_text("Test alert accepted")
    expect(
        page.get_by_test_id("test-result").get_by_role("link", name=re.compile("Alert #"))
    ).to_be_visible()
    expect(log.first).to_have_attribute("data-outcome", "accepted")
    expect(log.first).to_contain_text("oncall-test (admin@e2e.test)")
    page.screenshot(path=app.screenshots / "integration_detail.png")

    # Rotate: the new secret is shown once; the old one works during the grace period.
    page.get_by_role("button", name="Rotate secret").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Rotate").click()
    box = page.get_by_test_id("secret-box")
    expect(box).to_contain_text("previous secret keeps working until")
    new_secret = page.get_by_test_id("new-secret").inner_text().strip()
    assert new_secret != secret
    for key in (secret, new_secret):
        again = _signed_post(url, key, {"title": f"after rotation {tag}", "dedup_key": key[:8]})
        assert again.status_code == 202, again.text

    # Phone width: the alerts list folds into cards; the detail page stays usable.
    phone = new_page(browser, **PHONE)
    sign_in(phone, app.base_url, app.admin.email, app.admin.password, "/alerts")
    phone.wait_for_url(f"{app.base_url}/alerts**")
    # The disk alert is on the second page by now: link to a search (as other pages do).
    phone.goto(f"{app.base_url}/alerts?q=db-{tag}")
    expect(phone.get_by_placeholder("Search title")).to_have_value(f"db-{tag}")
    phone_row = phone.get_by_test_id("alert-row").filter(has_text=title)
    expect(phone_row).to_be_visible()
    box_ = phone_row.bounding_box()
    assert box_ is not None
    assert box_["x"] + box_["width"] <= 390
    phone.screenshot(path=app.screenshots / "alerts_phone.png", full_page=True)
    phone.goto(page.url)
    expect(phone.get_by_test_id("delivery-row").first).to_be_visible()
    phone.screenshot(path=app.screenshots / "integration_detail_phone.png")
    phone.get_by_text("Headers and body").first.tap()
    expect(phone.get_by_test_id("delivery-body").first).to_be_visible()
    phone.get_by_role("heading", name="Delivery log").scroll_into_view_if_needed()
    phone.screenshot(path=app.screenshots / "integration_log_phone.png")
    phone.context.close()

    # Delete (confirmed): gone from the list, its URL refuses deliveries.
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(r"/integrations/?$"))
    expect(page.get_by_test_id("integration-row").filter(has_text=name)).to_have_count(0)
    assert _signed_post(url, new_secret, {"title": "late"}).status_code == 404
    page.context.close()
