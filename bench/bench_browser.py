"""Browser update benchmark: state change → DOM with many connected clients, and memory per client.

Issue 7 targets: a state change reaches the browsers in **p95 ≤ 1 s with 200 connected
clients**; report the backend's memory per connected client.

How (and why this way). 200 real Chromium pages do not fit on the 2-core machine next to the
app: each page costs a renderer process and tens of MB, and their rendering would eat the CPU
the backend needs, so the figure would measure Chromium. Instead the server carries 200 live
clients of two kinds:

* ``--pages`` real pages (default 5, one browser context each, Debian's Chromium through
  Playwright) signed in and showing ``/incidents``. Each page runs a MutationObserver that
  stamps ``performance.timeOrigin + performance.now()`` the first time a row's
  ``data-status`` becomes ``ACKNOWLEDGED``: the moment the DOM shows the change (the
  headline figure). A wrapper around the page's ``WebSocket`` (an init script) also stamps
  the arrival of the frame that carries the row, which splits the latency into "reached the
  tab" and "rendered".
* the remaining clients are lightweight websocket clients (python-socketio, all in this
  process) that speak Reflex 0.10's event protocol exactly as ``state.js`` does: connect to
  the ``/_event`` namespace at path ``/_event`` with ``?token=<fresh tab token>``, the session
  cookie and our Origin, and put the boot event (``<root state>.hydrate_and_load`` with the
  page's ``router_data``) in the socket.io CONNECT packet's ``auth``. The server then hydrates
  the tab, runs the page's ``on_load`` (guard + dashboard load) and registers it for live
  pushes, just like a browser tab: the server cannot tell them apart. They stamp the arrival
  of the delta that carries the acknowledged row (no rendering), a second figure.

Every client is signed in as the same platform admin (one break-glass session): per push the
server still resolves the session, re-reads the list and the metrics once per client.

One round: take the wall clock, acknowledge one OPEN incident through the public API
(``POST /api/v1/incidents/{id}/acknowledge`` with an API key; the domain event goes through
Redis pub/sub to every backend worker's live-update task, which refreshes each watching
tab's state and sends its delta), then wait until every page and every websocket client has
seen it (or ``--round-timeout``). Latency = client stamp - the clock taken just before the
request (same machine, same clock). ``--rounds`` rounds, one second apart.

Memory: USS and RSS of the backend's processes (granian's supervisor and workers; psutil.
USS counts each process's private pages only, so the forked workers' shared pages are not
counted once per worker, but pages a worker un-shares by touching them do count). The
baseline is taken after the pages and two websocket clients per worker have connected (they
warm every worker's lazy imports and caches), the second reading after all clients have
connected and loaded; the difference is divided by the clients connected in between. The
Reflex state kept in Redis is reported too (``MEMORY USAGE`` of the clients' keys).

The app. By default the bench starts its own production app: a fresh PostgreSQL database
(``oncall db upgrade``), one claimed empty Redis logical database (``bench/stack.py``'s
convention) with an events channel of its own, and ``reflex run --env prod --single-port``
through ``tests/e2e/app_server`` (the code path the e2e tests use; with Redis configured
Reflex runs ``2 * cores + 1`` granian workers, or ``--workers``). No Dramatiq worker: the
measured path (API command -> Redis pub/sub -> Reflex workers) does not go through one. With
``--base-url`` it uses a running app instead; ``--database-url`` and ``--redis-url`` (with
its Reflex state database) must be that app's: the bench creates its account, API key and
incidents there, and the app must accept ``--base-url`` as its origin.

    .venv/bin/python bench/bench_browser.py                  # 200 clients, 5 pages, 20 rounds
    .venv/bin/python bench/bench_browser.py --quick          # 50 clients, 4 pages, 5 rounds
    .venv/bin/python bench/bench_browser.py --clients 100 --profile /tmp/prof --json

``--profile DIR`` records py-spy (raw, collapsed stacks) of every backend worker during the
rounds and prints the share of the workers' busy samples per part of the live-update path
(``bench/profile_summary.py`` reads the same files per function).

Measured on the shared 2-core machine (2026-12-03, load average 12-16 from other sessions),
default run (200 clients, 5 pages): DOM p50 2.7 s, p95 3.9 s, NOT the 1 s target (busier
runs: p95 5.8-7.1 s); the frame reaches the pages at p50 1.9 s, the websocket clients get
their delta at p50 2.0 s; with one client the DOM shows the change in ~0.1-0.5 s. Memory
~196 KiB USS per connected client in the workers + ~15 KiB of Reflex state in Redis. Where
the time goes: every push re-reads the dashboard once per tab (session, list, metrics: ~70 %
of the workers' busy samples, ~40 % waiting on PostgreSQL), so one acknowledgement costs
~200 x 3 service calls and saturates both cores for seconds; the browsers then render late
because the CPU is taken. Details: docs/benchmarks.md, "Browser updates (issue 7)".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import psutil
import psycopg
import redis
import socketio
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.stack import (  # noqa: E402
    PG_ADMIN,
    PG_URL_BASE,
    REDIS_HOST,
    REDIS_PORT,
    claim_redis_db,
    release_redis_db,
)
from tests.e2e import app_server  # noqa: E402

TARGET_P95_MS = 1000.0
ADMIN_EMAIL = "bench-admin@bench.test"
PAGE_PATH = "/incidents"
EVENT_PATH = "/_event"  # reflex_base.constants.Endpoint.EVENT: path and namespace
ROOT_STATE = "reflex___state____state"  # rx.State.get_full_name()
MIN_MEMORY_CLIENTS = 50  # below this, per-client memory is mostly the workers' warm-up
CONNECT_BATCH = 10  # websocket clients connecting at once (each runs the page's on_load)

# The page's rows carry data-status; stamp the first time each shows ACKNOWLEDGED.
OBSERVER_JS = """() => {
  window.__acked = window.__acked || {};
  const scan = () => {
    const t = performance.timeOrigin + performance.now();
    for (const row of document.querySelectorAll(
        '[data-testid=incident-row][data-status=ACKNOWLEDGED]')) {
      const id = row.getAttribute('data-incident-id');
      if (!(id in window.__acked)) window.__acked[id] = t;
    }
  };
  scan();
  new MutationObserver(scan).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-status']});
}"""

# Before the app's scripts: stamp the arrival of the websocket frame that carries each
# acknowledged row, so a page's latency splits into "reached the tab" and "rendered".
FRAME_HOOK_JS = """(() => {
  window.__frameAcked = {};
  const Native = window.WebSocket;
  const walk = (data, t) => {
    const delta = data && data.delta;
    for (const sub of Object.values(delta || {})) {
      for (const [name, value] of Object.entries(sub || {})) {
        if (!name.startsWith('items') || !Array.isArray(value)) continue;
        for (const row of value) {
          if (row && row.status === 'ACKNOWLEDGED' && !(row.id in window.__frameAcked)) {
            window.__frameAcked[row.id] = t;
          }
        }
      }
    }
  };
  // A subclass keeps the constructor's statics (OPEN, CLOSED...) that clients check.
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (msg) => {
        const t = performance.timeOrigin + performance.now();
        if (typeof msg.data !== 'string' || !msg.data.startsWith('42')) return;
        const start = msg.data.indexOf('[');
        try {
          const [name, data] = JSON.parse(msg.data.slice(start));
          if (name === 'event') walk(data, t);
        } catch (e) {}
      });
    }
  };
})();"""

PREPARE = """
import json, sys
from backend.apikeys import service as apikeys
from backend.apikeys.schemas import ApiKeyCreate
from backend.apikeys.scopes import Scope
from backend.core.actor import Actor
from tests.factories.ingest import make_integration, send_generic
created = make_integration()
key = apikeys.create_key(Actor.cli(), ApiKeyCreate(
    name="bench-browser", scopes=[Scope.INCIDENTS_READ, Scope.INCIDENTS_WRITE]))
run = sys.argv[1]
ids = [
    send_generic(created, {"title": f"bench {run} #{n}", "dedup_key": f"{run}-{n}",
                           "severity": "critical"}).alerts[0].incident_id
    for n in range(int(sys.argv[2]))
]
print(json.dumps({"key": key.key, "incident_ids": ids}))
"""


@dataclass
class Target:
    """The app under test and what the bench made in it."""

    base_url: str
    env: dict[str, str]
    cookie: tuple[str, str] = ("", "")
    api_key: str = ""
    incident_ids: list[int] = field(default_factory=list)
    server_root: int = 0  # pid whose python descendants are the backend


# ---- the app ---------------------------------------------------------------------------
def app_env(
    base_url: str, database_url: str, redis_url: str, workers: int | None
) -> dict[str, str]:
    """Production settings; Reflex state, broker and events in ``redis_url``'s logical
    database (the benches' convention: one claimed database each, a channel of our own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCALL_")}
    # A running app's key if given (its integrations' secrets are sealed with it).
    secret_key = os.environ.get("ONCALL_SECRET_KEY") or Fernet.generate_key().decode()
    db = urlsplit(redis_url).path.strip("/") or "0"
    env |= {
        "ONCALL_DATABASE__URL": database_url,
        "ONCALL_REDIS__URL": redis_url,
        "ONCALL_REDIS__REFLEX_STATE_DB": db,
        "ONCALL_REDIS__BROKER_DB": db,
        "ONCALL_REDIS__EVENTS_CHANNEL": f"oncall_bench:browser-{secrets.token_hex(4)}:events",
        "ONCALL_BASE_URL": base_url,
        "ONCALL_SECRET_KEY": secret_key,
        "ONCALL_OBSERVABILITY__LOG_JSON": "false",
        "ONCALL_OBSERVABILITY__LOG_LEVEL": "WARNING",
        "REFLEX_USE_SYSTEM_BUN": "1",
        "REFLEX_TELEMETRY_ENABLED": "false",
    }
    if workers:
        env["GRANIAN_WORKERS"] = str(workers)
    return env


def prepare(target: Target, incidents: int) -> None:
    """An admin account and session, an API key, and ``incidents`` OPEN incidents."""
    run = secrets.token_hex(3)
    email = f"{run}-{ADMIN_EMAIL}"
    account = app_server.break_glass(target.env, email, "Bench Admin")
    app_server.cli(target.env, "user", "promote", "--email", email)
    out = subprocess.run(  # noqa: S603  # our own interpreter and code
        [sys.executable, "-c", PREPARE, run, str(incidents)],
        env=target.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"preparing the data failed:\n{out.stderr[-3000:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    target.api_key = data["key"]
    target.incident_ids = list(data["incident_ids"])
    response = httpx2.post(
        f"{target.base_url}/api/auth/break-glass",
        data={"email": account.email, "password": account.password, "next": PAGE_PATH},
        headers={"Origin": target.base_url},
        follow_redirects=False,
        timeout=30,
    )
    cookies = list(response.cookies.items())
    if response.status_code != 303 or not cookies:
        raise SystemExit(f"sign-in failed: {response.status_code} {response.headers}")
    target.cookie = cookies[0]


def server_root_for(base_url: str) -> int:
    """The supervisor of the processes listening on the app's port (granian's workers share
    its socket; the supervisor runs the same command line)."""
    port = urlsplit(base_url).port
    listening = {
        conn.pid
        for conn in psutil.net_connections(kind="tcp")
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid
    }
    if not listening:
        raise SystemExit(f"no process listens on port {port} (memory needs the server's pids)")
    proc = psutil.Process(min(listening))
    parent = proc.parent()
    while parent is not None and parent.cmdline() == proc.cmdline():
        proc, parent = parent, parent.parent()
    return proc.pid


def backend_processes(root: int) -> list[psutil.Process]:
    """The server's processes: its supervisor and workers (not the frontend build's tools)."""
    procs = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
    return [p for p in procs if p.name() not in ("bun", "node")]


def memory(root: int) -> tuple[int, int, int]:
    """(USS, RSS, workers): bytes summed over the backend processes."""
    uss = rss = 0
    procs = backend_processes(root)
    for proc in procs:
        try:
            info = proc.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        uss += info.uss
        rss += info.rss
    return uss, rss, len(procs)


def redis_state_bytes(redis_url: str, tokens: set[str]) -> int:
    client = redis.Redis.from_url(redis_url)
    total = 0
    for key in client.scan_iter(count=1000):
        name = key.decode()
        if name.split("_", 1)[0] in tokens:
            total += int(client.memory_usage(key) or 0)
    return total


# ---- clients -------------------------------------------------------------------------
def acked_rows(update: Any) -> list[int]:
    """Incident ids the update shows ACKNOWLEDGED (rows live in the page state's ``items``)."""
    found: list[int] = []
    delta = update.get("delta") if isinstance(update, dict) else None
    for substate in (delta or {}).values():
        if not isinstance(substate, dict):
            continue
        for name, value in substate.items():
            if name.startswith("items") and isinstance(value, list):
                found += [
                    int(row["id"])
                    for row in value
                    if isinstance(row, dict) and row.get("status") == "ACKNOWLEDGED"
                ]
    return found


class SocketClient:
    """One browser tab on the dashboard, as far as the server can tell."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.token = str(uuid.uuid4())
        self.sio = socketio.AsyncClient(reconnection=False)
        self.loaded = asyncio.Event()
        self.acked_at: dict[int, float] = {}
        self.sio.on("event", self._on_event, namespace=EVENT_PATH)

    async def _on_event(self, update: Any) -> None:
        now = time.time() * 1000
        for incident_id in acked_rows(update):
            self.acked_at.setdefault(incident_id, now)
        delta = update.get("delta") if isinstance(update, dict) else None
        if any(
            isinstance(s, dict) and any(k.startswith("items") and v for k, v in s.items())
            for s in (delta or {}).values()
        ):
            self.loaded.set()

    async def connect(self) -> None:
        boot = {
            "name": f"{ROOT_STATE}.hydrate_and_load",
            "router_data": {"pathname": PAGE_PATH, "asPath": PAGE_PATH},
        }
        name, value = self.target.cookie
        await self.sio.connect(
            f"{self.target.base_url}?token={self.token}",
            headers={"Cookie": f"{name}={value}", "Origin": self.target.base_url},
            transports=["websocket"],
            namespaces=[EVENT_PATH],
            socketio_path=EVENT_PATH,
            auth={"event": boot},
            wait_timeout=60,
        )
        await asyncio.wait_for(self.loaded.wait(), timeout=120)

    async def close(self) -> None:
        await self.sio.disconnect()


async def connect_all(sockets: list[SocketClient]) -> None:
    for i in range(0, len(sockets), CONNECT_BATCH):
        await asyncio.gather(*(s.connect() for s in sockets[i : i + CONNECT_BATCH]))


async def open_pages(browser: Any, target: Target, count: int) -> list[Any]:
    name, value = target.cookie
    pages = []
    for _ in range(count):
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        await context.add_cookies([{"name": name, "value": value, "url": target.base_url}])
        context.set_default_timeout(60_000)
        page = await context.new_page()
        await page.add_init_script(FRAME_HOOK_JS)
        await page.goto(f"{target.base_url}{PAGE_PATH}")
        await page.wait_for_selector("[data-testid=incident-row]")
        await page.evaluate(OBSERVER_JS)
        pages.append(page)
    return pages


# ---- rounds --------------------------------------------------------------------------
async def one_round(
    http: httpx2.AsyncClient,
    target: Target,
    incident_id: int,
    pages: list[Any],
    sockets: list[SocketClient],
    timeout_s: float,
) -> tuple[list[float], list[float], int, float, list[float]]:
    """Acknowledge one incident: latencies (ms) of pages and sockets, clients that missed it,
    the API's answer time (ms), and when the pages' websocket frames arrived (ms)."""
    started = time.time() * 1000
    response = await http.post(
        f"{target.base_url}/api/v1/incidents/{incident_id}/acknowledge",
        headers={"Authorization": f"Bearer {target.api_key}"},
    )
    response.raise_for_status()
    answered = time.time() * 1000 - started
    key = str(incident_id)
    page_ms: dict[int, float] = {}
    frame_ms: dict[int, float] = {}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for i, page in enumerate(pages):
            if i not in page_ms:
                dom, frame = await page.evaluate(
                    f"() => [(window.__acked || {{}})['{key}'] ?? null,"
                    f" (window.__frameAcked || {{}})['{key}'] ?? null]"
                )
                if dom is not None:
                    page_ms[i] = float(dom) - started
                if frame is not None:
                    frame_ms[i] = float(frame) - started
        if len(page_ms) == len(pages) and all(incident_id in s.acked_at for s in sockets):
            break
        await asyncio.sleep(0.1)
    socket_ms = [s.acked_at[incident_id] - started for s in sockets if incident_id in s.acked_at]
    missed = len(pages) - len(page_ms) + len(sockets) - len(socket_ms)
    return list(page_ms.values()), socket_ms, missed, answered, list(frame_ms.values())


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def start_profile(root: int, out_dir: Path, seconds: int) -> list[subprocess.Popen[bytes]]:
    py_spy = shutil.which("py-spy") or str(app_server.VENV_BIN / "py-spy")
    out_dir.mkdir(parents=True, exist_ok=True)
    workers = [p for p in backend_processes(root) if p.pid != root]
    return [
        subprocess.Popen(  # noqa: S603  # our own venv's py-spy on our own server's workers
            [
                py_spy,
                "record",
                "--pid",
                str(p.pid),
                "--duration",
                str(seconds),
                "--rate",
                "50",
                "--format",
                "raw",
                "--output",
                str(out_dir / f"worker-{p.pid}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in workers
    ]


# Frames on top of an idle thread (waiting for work, a lock or the selector).
IDLE_FRAMES = {"_worker", "Condition.wait", "Queue.get", "EpollSelector.select", "Event.wait"}
SERVICES = {"resolve", "list_incidents", "incident_metrics", "acknowledge", "is_valid"}


def _where(frames: list[str]) -> str:
    for frame in frames:
        if frame.split(" (")[0] in SERVICES and "backend/" in frame:
            return f"service {frame.split(' (')[0]}"
    for marker, label in (
        (("reflex/istate/manager", "/redis/"), "Reflex state manager (Redis lock, load, save)"),
        (("socketio/", "engineio/"), "socket.io (emit, frames)"),
        (("oncall_app/",), "oncall_app page state (rebuilding rows, chart, delta)"),
        (("reflex",), "other Reflex (state, deltas, serialisation)"),
    ):
        if any(m in frame for frame in frames for m in marker):
            return label
    return "other (event loop, thread hand-offs)"


def summarise_profile(out_dir: Path) -> None:
    """Share of the workers' busy samples per part of the live-update path."""
    shares: dict[str, int] = {}
    busy = 0
    for path in out_dir.glob("worker-*.txt"):
        for line in path.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            frames = [f for f in stack.split(";") if "(" in f and not f.startswith("process ")]
            if not count_text.isdigit() or not frames:
                continue
            if frames[-1].split(" (")[0] in IDLE_FRAMES:
                continue
            where = _where(frames)
            if "psycopg" in frames[-1] and "wait" in frames[-1]:
                where += ", waiting for PostgreSQL"
            shares[where] = shares.get(where, 0) + int(count_text)
            busy += int(count_text)
    print(f"\nprofile ({out_dir}, {busy} busy samples of the workers):")
    for where, count in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"  {100 * count / max(busy, 1):5.1f}%  {where}")


async def measure(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    pages_n = min(args.pages, args.clients)
    sockets_n = args.clients - pages_n
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=shutil.which("chromium"), args=app_server.CHROMIUM_ARGS
        )
        t = time.monotonic()
        pages = await open_pages(browser, target, pages_n)
        print(f"{pages_n} pages on {PAGE_PATH} in {time.monotonic() - t:.1f}s", flush=True)
        sockets = [SocketClient(target) for _ in range(sockets_n)]
        # Warm every worker first (lazy imports, caches, copy-on-write of the forked heap):
        # the memory baseline is taken after pages + a few websocket clients per worker.
        workers = len(backend_processes(target.server_root))
        warm = min(len(sockets) // 2, 2 * workers)
        t = time.monotonic()
        await connect_all(sockets[:warm])
        await asyncio.sleep(3)
        uss0, rss0, _ = memory(target.server_root)
        await connect_all(sockets[warm:])
        print(
            f"{sockets_n} websocket clients hydrated and loaded in {time.monotonic() - t:.1f}s",
            flush=True,
        )
        await asyncio.sleep(5)
        uss1, rss1, _ = memory(target.server_root)
        measured = sockets_n - warm
        state_bytes = redis_state_bytes(args.redis_url, {s.token for s in sockets})

        profilers: list[subprocess.Popen[bytes]] = []
        if args.profile:
            seconds = int(args.rounds * (args.gap + args.round_timeout)) + 10
            profilers = start_profile(target.server_root, Path(args.profile), seconds)
        page_ms: list[float] = []
        frame_ms: list[float] = []
        socket_ms: list[float] = []
        missed = 0
        async with httpx2.AsyncClient(timeout=30) as http:
            for n, incident_id in enumerate(target.incident_ids[: args.rounds]):
                p, s, m, a, f = await one_round(
                    http, target, incident_id, pages, sockets, args.round_timeout
                )
                page_ms += p
                frame_ms += f
                socket_ms += s
                missed += m
                print(
                    f"round {n + 1:>2}: pages p50 {pct(p, 50):6.0f} ms max {max(p, default=0):6.0f}"
                    f" (frame in p50 {pct(f, 50):6.0f})"
                    f" | sockets p50 {pct(s, 50):7.0f} ms max {max(s, default=0):7.0f}"
                    f" | missed {m} | API answered in {a:.0f} ms",
                    flush=True,
                )
                await asyncio.sleep(args.gap)
        for proc in profilers:  # py-spy writes its file on SIGINT (or at --duration)
            proc.send_signal(signal.SIGINT)
        for proc in profilers:
            proc.wait(timeout=60)
        await asyncio.gather(*(s.close() for s in sockets), return_exceptions=True)
        await browser.close()
    per_client = (uss1 - uss0) / max(measured, 1)
    return {
        "clients": args.clients,
        "pages": pages_n,
        "sockets": sockets_n,
        "rounds": min(args.rounds, len(target.incident_ids)),
        "workers": workers,
        "page_ms": page_ms,
        "frame_ms": frame_ms,
        "socket_ms": socket_ms,
        "missed": missed,
        "uss_before": uss0,
        "uss_after": uss1,
        "rss_before": rss0,
        "rss_after": rss1,
        "per_client": per_client,
        "rss_per_client": (rss1 - rss0) / max(measured, 1),
        "memory_clients": measured,
        "redis_state_per_client": state_bytes / max(sockets_n, 1),
    }


def report(result: dict[str, Any], as_json: bool) -> None:
    page_ms, socket_ms = result["page_ms"], result["socket_ms"]
    p95 = pct(page_ms, 95)
    kib = 1024
    print()
    print(
        f"clients {result['clients']} ({result['pages']} Chromium pages + "
        f"{result['sockets']} websocket clients), {result['workers']} backend processes, "
        f"{result['rounds']} rounds, {os.cpu_count()} cores"
    )
    print(
        f"state change -> DOM (pages, n={len(page_ms)}): p50 {pct(page_ms, 50):.0f} ms, "
        f"p95 {p95:.0f} ms, max {max(page_ms, default=float('nan')):.0f} ms "
        f"(target p95 <= {TARGET_P95_MS:.0f} ms: {'met' if p95 <= TARGET_P95_MS else 'NOT met'})"
    )
    frame_ms = result["frame_ms"]
    print(
        f"state change -> frame reached the page (pages, n={len(frame_ms)}): "
        f"p50 {pct(frame_ms, 50):.0f} ms, p95 {pct(frame_ms, 95):.0f} ms"
    )
    print(
        f"state change -> delta received (websocket clients, n={len(socket_ms)}): "
        f"p50 {pct(socket_ms, 50):.0f} ms, p95 {pct(socket_ms, 95):.0f} ms, "
        f"max {max(socket_ms, default=float('nan')):.0f} ms"
    )
    print(f"clients that never saw a change within the round timeout: {result['missed']}")
    print(
        f"backend memory: USS {result['uss_before'] / kib**2:.0f} -> "
        f"{result['uss_after'] / kib**2:.0f} MiB, RSS {result['rss_before'] / kib**2:.0f} -> "
        f"{result['rss_after'] / kib**2:.0f} MiB; per connected client (over the last "
        f"{result['memory_clients']}) "
        f"{result['per_client'] / kib:.0f} KiB USS ({result['rss_per_client'] / kib:.0f} KiB RSS)"
        f" + {result['redis_state_per_client'] / kib:.1f} KiB of state in Redis"
    )
    if result["memory_clients"] < MIN_MEMORY_CLIENTS:
        print(
            f"  (per-client memory over fewer than {MIN_MEMORY_CLIENTS} clients mostly shows "
            "workers warming up: read it at 100 clients or more)"
        )
    if as_json:
        all_ms = page_ms + socket_ms
        print(
            json.dumps(
                {
                    "name": "browser_update",
                    "figures": {
                        "p50_ms": round(pct(page_ms, 50), 1),
                        "p95_ms": round(p95, 1),
                        "clients": result["clients"],
                        "memory_per_client_kib": round(result["per_client"] / kib, 1),
                        "pages": result["pages"],
                        "samples": len(page_ms),
                        "all_clients_p95_ms": round(pct(all_ms, 95), 1),
                        "socket_p95_ms": round(pct(socket_ms, 95), 1),
                        "frame_p95_ms": round(pct(result["frame_ms"], 95), 1),
                        "missed": result["missed"],
                        "backend_uss_mib": round(result["uss_after"] / kib**2, 1),
                        "backend_rss_mib": round(result["rss_after"] / kib**2, 1),
                        "redis_state_per_client_kib": round(
                            result["redis_state_per_client"] / kib, 1
                        ),
                        "workers": result["workers"],
                    },
                    "targets": {"p95_ms": TARGET_P95_MS},
                }
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="connected clients in all")
    parser.add_argument("--pages", type=int, default=5, help="of which real Chromium pages")
    parser.add_argument("--rounds", type=int, default=20, help="acknowledgements measured")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between rounds")
    parser.add_argument("--round-timeout", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="50 clients, 4 pages, 5 rounds")
    parser.add_argument("--workers", type=int, help="backend worker processes (own app only)")
    parser.add_argument("--base-url", help="use this running app instead of starting one")
    parser.add_argument("--database-url", help="the running app's database (with --base-url)")
    parser.add_argument(
        "--redis-url", help="the running app's Redis, with its Reflex state database number"
    )
    parser.add_argument("--profile", metavar="DIR", help="py-spy raw profiles of the workers")
    parser.add_argument("--json", action="store_true", help="one JSON object on the last line")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.pages, args.rounds = min(args.clients, 50), min(args.pages, 4), 5
    incidents = args.rounds + 5

    if args.base_url:
        if not (args.database_url and args.redis_url):
            parser.error("--base-url needs --database-url and --redis-url of that app")
        target = Target(
            args.base_url, app_env(args.base_url, args.database_url, args.redis_url, None)
        )
        prepare(target, incidents)
        target.server_root = server_root_for(args.base_url)
        result = asyncio.run(measure(target, args))
        if args.profile:
            summarise_profile(Path(args.profile))
        report(result, args.json)
        return

    db_name = f"oncall_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    redis_db = claim_redis_db()
    args.redis_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}"
    port = app_server.free_port()
    base_url = f"http://localhost:{port}"
    env = app_env(base_url, f"{PG_URL_BASE}/{db_name}", args.redis_url, args.workers)
    target = Target(base_url, env)
    work = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    log = work / "app.log"
    # A private copy of the frontend's work directory: the production build bakes the
    # backend's URL (our port) into it, and other sessions build ./.web for their own ports.
    web = work / "web"
    if (ROOT / ".web").is_dir():
        top = str(ROOT / ".web")
        shutil.copytree(
            top, web, symlinks=True, ignore=lambda d, _: {"build"} if d == top else set()
        )
    target.env["REFLEX_WEB_WORKDIR"] = str(web)
    proc = None
    try:
        app_server.cli(target.env, "db", "upgrade")
        started = time.monotonic()
        proc = app_server.start(target.env, port, log)
        app_server.wait_ready(base_url, proc, log)
        print(f"app ready at {base_url} in {time.monotonic() - started:.0f}s (log {log})")
        prepare(target, incidents)
        target.server_root = proc.pid
        result = asyncio.run(measure(target, args))
    finally:
        if proc is not None:
            app_server.stop(proc)
        shutil.rmtree(web, ignore_errors=True)
        release_redis_db(redis_db)
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    if args.profile:
        summarise_profile(Path(args.profile))
    report(result, args.json)


if __name__ == "__main__":
    main()
