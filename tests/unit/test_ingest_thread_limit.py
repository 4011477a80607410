"""The ingest routes run their blocking transactions on a bounded number of threads."""

from __future__ import annotations

import threading
import time

import anyio

from backend.api.routes.ingest import INGEST_THREADS, in_ingest_thread


def test_at_most_ingest_threads_run_at_once_and_every_call_returns() -> None:
    lock = threading.Lock()
    running = 0
    peak = 0

    def work(i: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        return i

    results: list[int] = []

    async def main() -> None:
        async def one(i: int) -> None:
            results.append(await in_ingest_thread(work, i))

        async with anyio.create_task_group() as tg:
            for i in range(INGEST_THREADS * 3):
                tg.start_soon(one, i)

    anyio.run(main)
    anyio.run(main)  # a second event loop gets its own limiter
    assert sorted(results) == sorted(list(range(INGEST_THREADS * 3)) * 2)
    assert 1 < peak <= INGEST_THREADS
