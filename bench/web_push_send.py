"""Cost of one browser push: ``WebPushProvider.send`` (payload encryption for the browser,
VAPID signature, HTTP POST) against a push service on 127.0.0.1 that answers 201 at once.

Sequential, on a temporary SQLite database (the key pair is read from it on every send, as in
production). Prints CPU and wall milliseconds per push (median and p95); the push service's own
time is inside "wall", and so is the key read.

    .venv/bin/python bench/web_push_send.py [--count 300] [--json]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import SQLModel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import backend.models  # noqa: E402, F401  # registers every table
from backend.core import db  # noqa: E402
from backend.core.settings import NotificationSettings, get_settings  # noqa: E402
from backend.notifications import vapid  # noqa: E402
from backend.notifications.providers import OutgoingMessage  # noqa: E402
from backend.notifications.providers.web_push import WebPushProvider  # noqa: E402


class Accept(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def subscription(endpoint: str) -> str:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    b64 = base64.urlsafe_b64encode
    keys = {"p256dh": b64(point).rstrip(b"=").decode(), "auth": b64(os.urandom(16)).decode()}
    return json.dumps({"endpoint": endpoint, "keys": keys})


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="bench-webpush-")
    os.environ["ONCALL_DATABASE__URL"] = f"sqlite:///{work}/bench.db"
    get_settings.cache_clear()  # settings are read on first use, after this
    SQLModel.metadata.create_all(db.get_engine())
    vapid.keys()  # the pair is made once, before the clock starts
    server = ThreadingHTTPServer(("127.0.0.1", 0), Accept)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}/push/bench"
    provider = WebPushProvider(
        NotificationSettings(
            web_push_allow_insecure_endpoints=True, web_push_subject="mailto:bench@example.org"
        )
    )
    message = OutgoingMessage(
        channel="web_push",
        to=subscription(endpoint),
        subject="[CRITICAL] #7 Disk full on db-1",
        body="Postgres · escalation level 1. Tap to open.",
    )
    cpu: list[float] = []
    wall: list[float] = []
    for _ in range(args.count):
        c0, w0 = time.process_time(), time.perf_counter()
        result = provider.send(message)
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
        if not result.ok:
            raise SystemExit(f"push failed: {result.summary}")
    server.shutdown()
    figures = {
        "count": args.count,
        "cpu_ms_median": round(statistics.median(cpu), 2),
        "cpu_ms_p95": round(pct(cpu, 0.95), 2),
        "wall_ms_median": round(statistics.median(wall), 2),
        "wall_ms_p95": round(pct(wall, 0.95), 2),
    }
    if args.json:
        print(json.dumps({"bench": "web_push_send", **figures}))
        return
    print(f"web push send x{args.count} (encrypt + VAPID sign + POST to 127.0.0.1)")
    print(f"  CPU  ms: median {figures['cpu_ms_median']}, p95 {figures['cpu_ms_p95']}")
    print(f"  wall ms: median {figures['wall_ms_median']}, p95 {figures['wall_ms_p95']}")


if __name__ == "__main__":
    main()
