"""Redis killed (-9) and started again empty, under the API and a worker (DESIGN.md: Redis only
carries due work fast; it may keep nothing on disk).

The API (granian, production settings) and a worker run against a redis-server of the test's
own. While Redis is down, signed alerts are still accepted (202: Redis is not on the ingest
commit path; the enqueue after commit fails, is logged, and is left to the sweepers), and some
of the incidents they open are acknowledged before anything could page for them. Redis comes
back empty on the same port: every queued and delayed message is gone, and the sweepers
(sent by the test as the scheduler would) re-arm the escalation steps and deliveries from the
database. Then the books.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import pytest

from tests.reliability.conftest import Environment, Paging, make_paging
from tests.support.api_server import ApiServer, post_alert
from tests.support.books import Ledger, check_books, settle, settle_after_acks, sweep
from tests.support.redis_server import RedisServer
from tests.support.workers import WORKER_START_TIMEOUT_S, Workers

pytestmark = [pytest.mark.integration, pytest.mark.reliability]


def _send(client: httpx2.Client, paging: Paging, ledger: Ledger, keys: list[str]) -> list[int]:
    """One alert per key; every answer must be a 202. Returns the incidents answered."""
    incident_ids = []
    for key in keys:
        response = post_alert(
            client, paging.integration, ledger, {"title": f"{key} down", "dedup_key": key}
        )
        assert response.status_code == 202, response.text
        incident_ids.append(int(response.json()["alerts"][0]["incident_id"]))
    return incident_ids


def test_alerts_are_accepted_while_redis_is_down_and_pages_resume_after_its_restart(
    configure: Callable[..., Environment],
    workers_for: Callable[..., Workers],
    api: Callable[..., ApiServer],
    migrated_pg_database: str,
    redis_server: RedisServer,
) -> None:
    env = configure(migrated_pg_database, redis_server.url)
    paging = make_paging()
    workers = workers_for(env.values)
    workers.start()
    server = api(env.values)
    ledger = Ledger()
    tick = lambda: (workers.check_alive(), sweep())  # noqa: E731
    with httpx2.Client(base_url=server.base_url, timeout=30) as client:
        before = _send(client, paging, ledger, ["db", "web"])
        settle(ledger, "the pages before the outage", WORKER_START_TIMEOUT_S, tick)

        redis_server.kill()
        during = _send(client, paging, ledger, ["cache", "queue", "disk", "dns"])
        # Grouped into an incident opened before the outage: still a 202.
        assert _send(client, paging, ledger, ["db"]) == before[:1]
        for incident_id in during[:2]:
            paging.acknowledge(incident_id)
            ledger.acked_before_paging.add(incident_id)

        redis_server.start()
        assert redis_server.starts == 2
        settle(ledger, "the pages after Redis came back empty", WORKER_START_TIMEOUT_S, tick)
        after = _send(client, paging, ledger, ["mail"])
        settle(ledger, "a page for an alert after the restart", WORKER_START_TIMEOUT_S, tick)

    for incident_id in set(before + during + after) - ledger.acked_before_paging:
        paging.acknowledge(incident_id)
    settle_after_acks(ledger, 30, tick)
    summary = check_books(ledger, [paging.integration.integration.id])
    assert ledger.statuses == {202: 8}
    assert (summary.alerts, summary.incidents) == (8, 7)
    assert summary.pages >= 5  # Ann for each incident not acknowledged before paging
    # The four new incidents' first steps could not be enqueued: left to the sweeper.
    assert server.logs(tail=10**7).count("escalation_enqueue_failed") == 4
