"""Real ``python -m dramatiq jobs.actors`` worker processes, and waiting for what they do.

Each worker runs in its own session (process group), so a SIGKILL takes its Dramatiq fork
children with it, as a crashed machine would. Logs go to files in the test's tmp dir and are
shown when a worker dies unexpectedly or a wait times out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKER_START_TIMEOUT_S = 60.0


class Workers:
    """Starts ``python -m dramatiq jobs.actors`` processes; kills what is left at the end."""

    def __init__(self, env: dict[str, str], log_dir: Path, threads: int = 2) -> None:
        self._env = {k: v for k, v in os.environ.items() if not k.startswith("ONCALL_")}
        self._env.update(env, PYTHONUNBUFFERED="1")
        self._log_dir = log_dir
        self._threads = threads
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = (self._log_dir / f"worker{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "jobs.actors",
             "--processes", "1", "--threads", str(self._threads)],
            cwd=ROOT, env=self._env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        self.processes.append(process)
        return process

    def running(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.processes if p.poll() is None]

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self._log_dir.glob("worker*.log"))
        )

    def kill(self, process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        if process.poll() is None:
            os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def check_alive(self) -> None:
        """Fail the test if a worker this test did not kill has exited."""
        for process in self.processes:
            if process.poll() is not None and process.returncode != -signal.SIGKILL:
                pytest.fail(f"a worker exited with {process.returncode}:\n{self.logs()}")

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                self.kill(process, signal.SIGKILL)


def wait_until(
    what: str,
    timeout_s: float,
    check: Callable[[], bool],
    tick: Callable[[], object] = lambda: None,
    every_s: float = 0.5,
) -> None:
    """Poll ``check`` (calling ``tick`` between polls) until it holds; fail after the timeout.

    The timeout is a deadline for a hang, not a speed assertion: it is generous on purpose.
    """
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}")
        tick()
        time.sleep(every_s)
