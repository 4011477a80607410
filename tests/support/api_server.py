"""The API served by granian in a subprocess (``tests.support.served_api:build``), and a
client that sends signed generic alerts to it and writes every answer into a ledger."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx2
import pytest

from backend.ingest.schemas import IntegrationSecret
from tests.support.books import Ledger
from tests.support.databases import free_port
from tests.support.workers import ROOT

START_TIMEOUT_S = 60.0


class ApiServer:
    def __init__(self, env: dict[str, str], log_dir: Path, workers: int = 1) -> None:
        self._env = {k: v for k, v in os.environ.items() if not k.startswith("ONCALL_")}
        self._env.update(env, PYTHONUNBUFFERED="1")
        self._log = log_dir / "api.log"
        self._workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        granian = str(Path(sys.executable).with_name("granian"))
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [granian, "--interface", "asgi", "--factory", "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", str(self._workers), "--no-ws",
                 "tests.support.served_api:build"],
                cwd=ROOT, env=self._env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._live():
            if self._process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the API server did not start:\n{self.logs()}")
            time.sleep(0.2)

    def _live(self) -> bool:
        try:
            return httpx2.get(f"{self.base_url}/api/health/live", timeout=2).status_code == 200
        except httpx2.HTTPError:
            return False

    def logs(self, tail: int = 4000) -> str:
        text = self._log.read_text(errors="replace") if self._log.exists() else ""
        return text[-tail:]

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=20)


def signed_request(
    created: IntegrationSecret, payload: dict[str, Any], idempotency_key: str | None = None
) -> tuple[str, bytes, dict[str, str]]:
    """(path, body, headers) of one signed generic alert (docs/integrations/generic.md)."""
    body = json.dumps(payload).encode()
    ts = str(int(time.time()))
    digest = hmac.new(created.secret.encode(), ts.encode() + b"." + body, hashlib.sha256)
    headers = {
        "content-type": "application/json",
        "x-oncall-timestamp": ts,
        "x-oncall-signature": f"v1={digest.hexdigest()}",
        "idempotency-key": idempotency_key or uuid.uuid4().hex,
    }
    return f"/api/v1/integrations/{created.integration.key}/alerts", body, headers


def post_alert(
    client: httpx2.Client,
    created: IntegrationSecret,
    ledger: Ledger,
    payload: dict[str, Any],
    idempotency_key: str | None = None,
) -> httpx2.Response:
    path, body, headers = signed_request(created, payload, idempotency_key)
    response = client.post(path, content=body, headers=headers)
    ledger.record(response.status_code, _json(response))
    return response


def _json(response: httpx2.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
