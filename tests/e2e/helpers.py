"""Browser steps shared by the end-to-end tests."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect


def sign_in(page: Page, base_url: str, email: str, password: str, next_path: str = "/") -> None:
    """Through the real login form (a plain HTML post that sets the HttpOnly cookie)."""
    page.goto(f"{base_url}/login?next={next_path}")
    # The hidden ``next`` field is filled once the page has hydrated.
    expect(page.locator("input[name=next]")).to_have_value(next_path, timeout=15_000)
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def new_page(browser: Any, **context_args: Any) -> Page:
    context = browser.new_context(**context_args)
    context.set_default_timeout(10_000)
    return context.new_page()


def create_team(page: Page, name: str, org_tags: str = "", tech_tags: str = "") -> None:
    """On /teams: open the form, fill it in and submit."""
    page.get_by_role("button", name="New team").click()
    form = page.get_by_test_id("create-team-form")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=org_tags]").fill(org_tags)
    form.locator("input[name=tech_tags]").fill(tech_tags)
    form.get_by_role("button", name="Create team").click()


def create_service(page: Page, base_url: str, team: str, name: str) -> None:
    """On /services: create a service owned by ``team``; ends on its page."""
    page.goto(f"{base_url}/services")
    page.get_by_role("button", name="New service").click()
    form = page.get_by_test_id("create-service-form")
    form.locator("input[name=name]").fill(name)
    form.locator("select[name=team_id]").select_option(label=team)
    form.get_by_role("button", name="Create service").click()
    page.wait_for_url(re.compile(r"/services/\d+"))


def click_clear_of_toasts(target: Locator) -> None:
    """Click ``target`` once no toast covers the page.

    Toasts stack at the bottom right, over buttons that live there. While the pointer hovers
    the stack sonner pauses their timers, so a test that has just clicked a button under the
    stack would wait for ever: move the pointer off first, as a person would.
    """
    page = target.page
    page.mouse.move(0, 0)
    expect(page.locator("[data-sonner-toast]")).to_have_count(0, timeout=20_000)
    target.click()
