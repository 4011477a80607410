"""Starting the real app as in production, outside pytest too.

The end-to-end tests (``tests/e2e/conftest.py``) and the browser benchmark
(``bench/bench_browser.py``) run the same code path: ``oncall db upgrade`` and ``oncall
break-glass create`` on the app's database, then ``reflex run --env prod --single-port`` in its
own process group, ready once ``/api/health/ready`` answers 200. Failures raise
:class:`AppError`; the e2e fixtures turn them into ``pytest.fail``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The first production build compiles the frontend with bun.
START_TIMEOUT_S = 300


class AppError(RuntimeError):
    """The app or one of its CLI steps failed; the message carries the output's tail."""


@dataclass(frozen=True)
class Account:
    email: str
    name: str
    password: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> str:
    """Run ``oncall ARGS`` against the app's settings in ``env``; returns its stdout."""
    result = subprocess.run(
        [str(VENV_BIN / "oncall"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise AppError(f"`oncall {' '.join(args[:2])}` failed:\n{result.stderr[-3000:]}")
    return result.stdout


def break_glass(env: dict[str, str], email: str, name: str) -> Account:
    out = cli(env, "break-glass", "create", "--email", email, "--name", name)
    match = re.search(r"password \(shown once\): (\S+)", out)
    if not match:
        raise AppError(f"no password in CLI output: {out!r}")
    return Account(email, name, match.group(1))


def start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """``reflex run --env prod --single-port`` on ``port``, output to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                str(VENV_BIN / "reflex"),
                "run",
                "--env",
                "prod",
                "--single-port",
                "--frontend-port",
                str(port),
                "--backend-port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_ready(
    base_url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = START_TIMEOUT_S
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AppError(f"app exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx2.get(f"{base_url}/api/health/ready", timeout=2).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(1)
    raise AppError(f"app not ready after {timeout_s:.0f}s:\n{log.read_text()[-4000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    # The reflex CLI starts uvicorn and bun children: end the whole process group we created.
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
