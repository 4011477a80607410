"""Soak: signed alerts at a steady rate while worker processes are SIGKILLed at random and
restarted, incidents acknowledged and resolved as they come; then the books.

``ONCALL_SOAK_SECONDS`` (default 30) and ``ONCALL_SOAK_RATE`` (alerts/s, default 20: what this
shared 2-core machine sustains beside the rest of the suite) size it; ``ONCALL_SOAK_SEED``
replays the chaos of a printed run; ``make chaos`` runs 10 minutes at 200/s. The rate is a
target for the sender, not an assertion: the test prints what was achieved. Alerts use 40
dedup keys, so most join an open incident and resolved keys open new ones; every alert has its
own Idempotency-Key. Every answer must be a 202.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import threading
import time
import uuid
from collections.abc import Callable

import httpx2
import pytest
from sqlalchemy import select

from backend.core.db import unit_of_work
from backend.core.errors import InvalidTransition
from backend.incidents import service as incidents
from backend.incidents.models import Incident, IncidentStatus
from tests.factories.identity import actor_of
from tests.reliability.conftest import Environment, Paging, make_paging
from tests.support.api_server import ApiServer, signed_request
from tests.support.books import Ledger, check_books, settle, settle_after_acks, sweep
from tests.support.workers import WORKER_START_TIMEOUT_S, Workers, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

SOAK_SECONDS = float(os.environ.get("ONCALL_SOAK_SECONDS", "30"))
SOAK_RATE = float(os.environ.get("ONCALL_SOAK_RATE", "20"))
API_WORKERS = int(os.environ.get("ONCALL_SOAK_API_WORKERS", "1"))
WORKER_PROCESSES = 2
IN_FLIGHT = 64
KEYS = 40
KILL_EVERY_S = (2.0, 6.0)  # a random pause in this range between two kills
# A deadline for the backlog after the sender stops (pages of a long run may trail behind).
SETTLE_S = WORKER_START_TIMEOUT_S + SOAK_SECONDS / 2
# Which workers die when, and which incidents are acknowledged: printed, and replayable with
# ONCALL_SOAK_SEED (the timing of a loaded machine still differs from run to run).
SEED = int(os.environ.get("ONCALL_SOAK_SEED", str(random.SystemRandom().randrange(2**32))))
rng = random.Random(SEED)  # chaos, not secrets


class Load:
    """Sends alerts at ``SOAK_RATE`` for ``SOAK_SECONDS`` from an event loop in a thread."""

    def __init__(self, base_url: str, paging: Paging) -> None:
        self._base_url = base_url
        self._paging = paging
        self.ledger = Ledger()
        self.lock = threading.Lock()
        self.errors: list[str] = []
        self.sent = 0
        self.elapsed_s = 0.0
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()))

    async def _run(self) -> None:
        slots = asyncio.Semaphore(IN_FLIGHT)
        limits = httpx2.Limits(max_connections=IN_FLIGHT)
        async with httpx2.AsyncClient(base_url=self._base_url, timeout=60, limits=limits) as client:
            started = time.monotonic()
            tasks = []
            n = 0
            while (now := time.monotonic() - started) < SOAK_SECONDS:
                due = n / SOAK_RATE
                if due > now:
                    await asyncio.sleep(due - now)
                await slots.acquire()  # behind schedule when the server is slower than the rate
                tasks.append(asyncio.create_task(self._send(client, slots, n)))
                n += 1
            await asyncio.gather(*tasks)
            self.elapsed_s = time.monotonic() - started
            self.sent = n

    async def _send(self, client: httpx2.AsyncClient, slots: asyncio.Semaphore, n: int) -> None:
        payload = {"title": f"alert {n}", "dedup_key": f"k{n % KEYS}", "severity": "critical"}
        path, body, headers = signed_request(self._paging.integration, payload, uuid.uuid4().hex)
        try:
            response = await client.post(path, content=body, headers=headers)
        except httpx2.HTTPError as exc:
            with self.lock:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            return
        finally:
            slots.release()
        with self.lock:
            self.ledger.record(response.status_code, response.json())

    def incident_ids(self) -> set[int]:
        with self.lock:
            return self.ledger.incident_ids


def _responders(paging: Paging) -> None:
    """Acknowledge some open incidents and resolve some acknowledged ones, as people would."""
    with unit_of_work() as uow:
        rows = uow.session.execute(select(Incident.id, Incident.status)).all()
    for incident_id, status in rows:
        try:
            if status is IncidentStatus.OPEN and rng.random() < 0.3:
                incidents.acknowledge(actor_of(paging.crew.ann), incident_id)
            elif status is IncidentStatus.ACKNOWLEDGED and rng.random() < 0.3:
                incidents.resolve(actor_of(paging.crew.ann), incident_id)
        except InvalidTransition:
            pass  # an integration's resolve or a step got there first


def test_soak_with_random_worker_kills_balances_the_books(
    configure: Callable[..., Environment],
    workers_for: Callable[..., Workers],
    api: Callable[..., ApiServer],
    migrated_pg_database: str,
    redis_url: str,
    redis_own_db: int,
) -> None:
    env = configure(
        migrated_pg_database,
        redis_url.rsplit("/", 1)[0],
        redis_own_db,
        # A lease of 5 + 1 s: on this loaded box a live worker can be slower than a shorter
        # one, and its claim is then taken over as if it had died (a duplicate, not a loss).
        ONCALL_NOTIFICATIONS__TIMEOUT_SECONDS="5",
        ONCALL_OBSERVABILITY__LOG_LEVEL="WARNING",
    )
    paging = make_paging()
    workers = workers_for(env.values, threads=4)
    for _ in range(WORKER_PROCESSES):
        workers.start()
    server = api(env.values, workers=API_WORKERS)
    load = Load(server.base_url, paging)
    load.thread.start()
    kills = 0
    next_kill = time.monotonic() + rng.uniform(*KILL_EVERY_S)
    while load.thread.is_alive():
        workers.check_alive()
        sweep()  # what the scheduler sends every 15 s in production
        _responders(paging)
        if time.monotonic() >= next_kill:
            workers.kill(rng.choice(workers.running()), signal.SIGKILL)
            workers.start()
            kills += 1
            next_kill = time.monotonic() + rng.uniform(*KILL_EVERY_S)
        time.sleep(1.0)
    load.thread.join()

    ledger = load.ledger
    assert load.errors == []
    assert dict(ledger.statuses) == {202: load.sent}
    tick = lambda: (workers.check_alive(), sweep())  # noqa: E731
    settle(ledger, "every open incident paged after the soak", SETTLE_S, tick)
    wait_until(
        "no incident left open",
        60,
        lambda: _acknowledge_open(paging) == 0,
        tick,
    )
    settle_after_acks(ledger, SETTLE_S, tick)
    summary = check_books(ledger, [paging.integration.integration.id])
    print(  # noqa: T201  # the figures of the run, for make chaos
        f"\nsoak (seed {SEED}): {load.sent} alerts in {load.elapsed_s:.0f} s "
        f"({load.sent / load.elapsed_s:.1f}/s, target {SOAK_RATE:.0f}/s), {kills} worker kills; "
        f"{summary.incidents} incidents, {summary.pages} pages, "
        f"{summary.notifications} notifications, {summary.lost_claims} claims lost to kills, "
        f"{summary.duplicates} duplicate messages"
    )
    assert kills >= 1


def _acknowledge_open(paging: Paging) -> int:
    with unit_of_work() as uow:
        open_ids = uow.session.scalars(
            select(Incident.id).where(Incident.status == IncidentStatus.OPEN)
        ).all()
    for incident_id in open_ids:
        assert incident_id is not None
        with contextlib.suppress(InvalidTransition):  # resolved by an integration meanwhile
            incidents.acknowledge(actor_of(paging.crew.ann), incident_id)
    return len(open_ids)
