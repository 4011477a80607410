"""A ``redis-server`` of the test's own, to kill -9 and start again on the same port.

The machine's Redis (127.0.0.1:6379) is shared with other suites and engineers: never restart
it. This one keeps nothing on disk (``--save "" --appendonly no``), like production's Redis may
(DESIGN.md: Redis only carries due work fast), so a restart loses every queued message.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import IN_CI
from tests.support.databases import free_port

START_TIMEOUT_S = 30.0


class RedisServer:
    def __init__(self, binary: str, log_dir: Path) -> None:
        self._binary = binary
        self._log_dir = log_dir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        log = (self._log_dir / f"redis{self.starts}.log").open("wb")
        self._process = subprocess.Popen(
            [self._binary, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        self.starts += 1
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start on port {self.port}: {self.log()}")
            time.sleep(0.05)

    def answers(self) -> bool:
        client = redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no save; every queued and delayed message is gone."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=30)

    def log(self) -> str:
        logs = sorted(self._log_dir.glob("redis*"))
        return "\n".join(p.read_text(errors="replace")[-2000:] for p in logs)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server on a free port (skipped loudly without the binary; fails in CI)."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not on PATH: the Redis restart test cannot run"
        if IN_CI:
            pytest.fail(f"{message} (CI=true requires it)")
        pytest.skip(f"SKIPPED LOUDLY: {message}")
    log_dir = tmp_path / "redis"
    log_dir.mkdir()
    server = RedisServer(binary, log_dir)
    server.start()
    try:
        yield server
    finally:
        server.kill()
