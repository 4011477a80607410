"""The ingest routes run their blocking transactions on a bounded number of threads
(``ONCALL_INGEST__CONCURRENCY`` per event loop)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import anyio
import pytest

from backend.api.routes.ingest import in_ingest_thread
from backend.core.settings import get_settings

LIMIT = 4


@pytest.fixture
def limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setenv("ONCALL_INGEST__CONCURRENCY", str(LIMIT))
    get_settings.cache_clear()
    yield LIMIT
    monkeypatch.delenv("ONCALL_INGEST__CONCURRENCY")
    get_settings.cache_clear()


def test_at_most_the_configured_number_run_at_once_and_every_call_returns(limit: int) -> None:
    lock = threading.Lock()
    running = 0
    peak = 0

    def work(i: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return i

    results: list[int] = []

    async def main() -> None:
        async def one(i: int) -> None:
            results.append(await in_ingest_thread(work, i))

        async with anyio.create_task_group() as tg:
            for i in range(limit * 3):
                tg.start_soon(one, i)

    anyio.run(main)
    anyio.run(main)  # a second event loop gets its own limiter
    assert sorted(results) == sorted(list(range(limit * 3)) * 2)
    assert peak == limit  # 12 calls of 50 ms each: the limit is reached, never passed
