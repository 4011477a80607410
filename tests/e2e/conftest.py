"""Build and start the real app ONCE per test session and drive it with Debian's Chromium.

The app runs exactly as in production (``reflex run --env prod --single-port``) against its own
SQLite file, after ``oncall db upgrade`` and ``oncall break-glass create`` on that database.
Without bun or chromium these tests skip loudly; under ``CI=true`` they fail instead.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e import app_server
from tests.e2e.app_server import CHROMIUM_ARGS, Account

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
IDP_HOOK_SECRET = "e2e-idp-hook-secret-" + "x" * 16


@dataclass(frozen=True)
class RunningApp:
    base_url: str
    admin: Account
    bob: Account
    carol: Account
    dave: Account
    idp_hook_secret: str
    screenshots: Path
    log: Path


def _require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path:
        return path
    message = f"{tool} not found on PATH: end-to-end tests cannot run ({hint})"
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it")
    pytest.skip(f"SKIPPED LOUDLY: {message}")


def _cli(env: dict[str, str], *args: str) -> str:
    try:
        return app_server.cli(env, *args)
    except app_server.AppError as exc:
        pytest.fail(str(exc))


def _break_glass(env: dict[str, str], email: str, name: str) -> Account:
    try:
        return app_server.break_glass(env, email, name)
    except app_server.AppError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def running_app(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[RunningApp]:
    _require("bun", "install it with `npm install -g bun`")
    _require("chromium", "install Debian's package: `apt-get install -y chromium`")
    work = tmp_path_factory.mktemp("e2e")
    screenshots = Path(os.environ.get("E2E_SCREENSHOT_DIR") or work / "screenshots")
    screenshots.mkdir(parents=True, exist_ok=True)
    port = app_server.free_port()
    base_url = f"http://localhost:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCALL_")}
    env |= {
        "ONCALL_DATABASE__URL": f"sqlite:///{work / 'e2e.db'}",
        "ONCALL_BASE_URL": base_url,
        "ONCALL_OBSERVABILITY__LOG_JSON": "false",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
        "ONCALL_AUTH__IDP_HOOK_SECRET": IDP_HOOK_SECRET,
        # The suite signs the same break-glass accounts in from one IP many times in a few
        # minutes; the product's limit (5 per 15 min) is tested in tests/service and
        # tests/api, so here it is raised rather than tripped by the suite's own logins.
        "ONCALL_AUTH__BREAK_GLASS_MAX_ATTEMPTS": "500",
    }
    _cli(env, "db", "upgrade")
    admin = _break_glass(env, "admin@e2e.test", "Ada Admin")
    _cli(env, "user", "promote", "--email", admin.email)
    bob = _break_glass(env, "bob@e2e.test", "Bob Builder")
    carol = _break_glass(env, "carol@e2e.test", "Carol Chen")
    dave = _break_glass(env, "dave@e2e.test", "Dave Diaz")

    log = work / "app.log"
    started = time.monotonic()
    proc = app_server.start(env, port, log)
    try:
        try:
            app_server.wait_ready(base_url, proc, log)
        except app_server.AppError as exc:
            pytest.fail(str(exc))
        reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"e2e app ready at {base_url} in {time.monotonic() - started:.1f}s "
                f"(log {log}, screenshots {screenshots})"
            )
        yield RunningApp(base_url, admin, bob, carol, dave, IDP_HOOK_SECRET, screenshots, log)
    finally:
        app_server.stop(proc)


@pytest.fixture(scope="session")
def browser(running_app: RunningApp) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
