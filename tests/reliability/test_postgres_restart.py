"""PostgreSQL goes away under load and comes back (DESIGN.md: a 2xx means committed).

The machine's PostgreSQL is shared, so it is never restarted: the API (granian, production
settings) and a worker reach it through a TCP proxy of the test's own, which the test cuts
(every connection closed at once, new ones refused) while senders are posting signed alerts,
and restores a few seconds later. Senders behave like a monitoring tool: each alert has its
own Idempotency-Key and is re-sent after any non-2xx answer until it is accepted.

During the outage every answer is a 503 problem with Retry-After, never a 500; after it,
nothing is half-written (each alert is stored once, with its incident, its timeline lines and
its escalation, or not at all) and the books balance.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable

import httpx2
import pytest

from tests.reliability.conftest import Environment, make_paging
from tests.support.api_server import ApiServer, post_alert
from tests.support.books import Ledger, check_books, settle, settle_after_acks, sweep
from tests.support.pg_proxy import PgProxy
from tests.support.workers import WORKER_START_TIMEOUT_S, Workers, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

SENDERS = 4
BEFORE, AFTER = 40, 40  # alerts accepted before the cut, and after the restore, at least
OUTAGE_S = 3.0
RESEND_PAUSE_S = 0.2  # a real sender waits Retry-After (5 s); shortened to keep the test short


class Senders:
    """Threads posting alerts until stopped, each re-sent with its Idempotency-Key until
    accepted (a fast ingest could finish any fixed number before the cut)."""

    def __init__(self, base_url: str, send: Callable[[httpx2.Client, dict[str, str], str], int]):
        self._base_url = base_url
        self._send = send
        self.lock = threading.Lock()
        self.accepted = 0
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(SENDERS)]

    def _run(self, sender: int) -> None:
        with httpx2.Client(base_url=self._base_url, timeout=30) as client:
            n = 0
            while not self.stop.is_set():
                payload = {"title": f"alert {sender}/{n}", "dedup_key": f"k{n % 7}"}
                key = uuid.uuid4().hex
                while (status := self._send(client, payload, key)) // 100 != 2:
                    time.sleep(RESEND_PAUSE_S)
                with self.lock:
                    self.accepted += 1
                del status
                n += 1


def test_webhooks_answer_503_during_a_postgres_outage_and_nothing_is_half_written(
    configure: Callable[..., Environment],
    workers_for: Callable[..., Workers],
    api: Callable[..., ApiServer],
    migrated_pg_database: str,
    redis_url: str,
    redis_own_db: int,
    pg_proxy: PgProxy,
) -> None:
    env = configure(migrated_pg_database, redis_url.rsplit("/", 1)[0], redis_own_db)
    paging = make_paging()
    through_proxy = {**env.values, "ONCALL_DATABASE__URL": pg_proxy.url_for(migrated_pg_database)}
    workers = workers_for(through_proxy)
    workers.start()
    server = api(through_proxy)
    ledger = Ledger()
    answers: list[tuple[int, str, str]] = []  # (status, content type, retry-after)

    def send(client: httpx2.Client, payload: dict[str, str], key: str) -> int:
        response = post_alert(client, paging.integration, ledger, payload, key)
        with senders.lock:
            answers.append(
                (
                    response.status_code,
                    response.headers.get("content-type", ""),
                    response.headers.get("retry-after", ""),
                )
            )
        return response.status_code

    senders = Senders(server.base_url, send)
    for thread in senders.threads:
        thread.start()
    wait_until("alerts before the outage", 120, lambda: senders.accepted >= BEFORE, every_s=0.05)
    pg_proxy.cut()
    time.sleep(OUTAGE_S)  # the outage itself, not a wait for a result
    pg_proxy.restore()
    resumed = senders.accepted
    wait_until("alerts after the outage", 120, lambda: senders.accepted >= resumed + AFTER)
    senders.stop.set()
    for thread in senders.threads:
        thread.join(timeout=300)
        assert not thread.is_alive()

    statuses = Counter(status for status, _, _ in answers)
    assert set(statuses) <= {202, 503}, (statuses, server.logs(tail=6000))
    assert statuses[202] == senders.accepted
    assert statuses[503] >= 1, "the outage was not seen by any sender"
    unavailable = {(ct, ra) for status, ct, ra in answers if status == 503}
    assert unavailable == {("application/problem+json", "5")}

    tick = lambda: (workers.check_alive(), sweep())  # noqa: E731
    settle(ledger, "every incident paged after the outage", WORKER_START_TIMEOUT_S, tick)
    for incident_id in ledger.incident_ids:
        paging.acknowledge(incident_id)
    settle_after_acks(ledger, 30, tick)
    summary = check_books(ledger, [paging.integration.integration.id])
    # One stored alert per alert sent, whatever the retries (Idempotency-Key).
    assert summary.alerts == senders.accepted
