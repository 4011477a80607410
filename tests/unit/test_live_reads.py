"""One live event refreshes many tabs: their identical reads run once (oncall_app.live_reads)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from backend.core.actor import Actor, ActorKind
from oncall_app import live_reads


class Counter:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def read(self, key: str) -> str:
        with self._lock:
            self.calls.append(key)
        return f"rows of {key}"


@pytest.fixture(autouse=True)
def _no_cached_actors() -> Iterator[None]:
    live_reads._actors.clear()
    yield
    live_reads._actors.clear()


def _tabs(counter: Counter, keys: list[str]) -> list[str]:
    async def main() -> list[str]:
        batch = live_reads.begin()
        try:
            tasks = [
                asyncio.create_task(live_reads.shared(("list", k), counter.read, k)) for k in keys
            ]
        finally:
            live_reads.end(batch)
        return list(await asyncio.gather(*tasks))

    return asyncio.run(main())


def test_tabs_of_one_event_with_the_same_view_share_one_read() -> None:
    counter = Counter()
    results = _tabs(counter, ["open"] * 150 + ["mine"] * 50)
    assert sorted(counter.calls) == ["mine", "open"]
    assert results.count("rows of open") == 150
    assert results.count("rows of mine") == 50


def test_each_event_reads_afresh() -> None:
    counter = Counter()
    _tabs(counter, ["open"] * 3)
    _tabs(counter, ["open"] * 3)
    assert counter.calls == ["open", "open"]


def test_outside_a_batch_every_read_runs() -> None:
    counter = Counter()

    async def main() -> None:
        for _ in range(3):
            await live_reads.shared(("list", "open"), counter.read, "open")

    asyncio.run(main())
    assert counter.calls == ["open"] * 3


def test_a_failed_shared_read_fails_every_tab_waiting_for_it() -> None:
    def broken() -> str:
        raise RuntimeError("database down")

    async def main() -> list[object]:
        batch = live_reads.begin()
        try:
            tasks = [asyncio.create_task(live_reads.shared("k", broken)) for _ in range(3)]
        finally:
            live_reads.end(batch)
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    assert all(isinstance(r, RuntimeError) for r in asyncio.run(main()))


def _user(user_id: int) -> Actor:
    return Actor(kind=ActorKind.USER, id=user_id, label=f"u{user_id}@example.org")


def test_a_push_actor_is_cached_per_session_until_revoked() -> None:
    resolved: list[str] = []

    def resolve(token: str, user_id: int) -> Actor:
        resolved.append(token)
        return _user(user_id)

    async def main() -> None:
        for _ in range(3):
            await live_reads.actor("s1", lambda: resolve("s1", 1))
            await live_reads.actor("s2", lambda: resolve("s2", 2))
        live_reads.drop_user(1)
        await live_reads.actor("s1", lambda: resolve("s1", 1))
        await live_reads.actor("s2", lambda: resolve("s2", 2))
        live_reads.drop_session("s2")
        await live_reads.actor("s2", lambda: resolve("s2", 2))

    asyncio.run(main())
    assert resolved == ["s1", "s2", "s1", "s2"]


def test_a_cached_push_actor_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_reads, "ACTOR_TTL_SECONDS", 0.0)
    resolved: list[int] = []

    async def main() -> None:
        for _ in range(2):
            await live_reads.actor("s1", lambda: resolved.append(1) or _user(1))

    asyncio.run(main())
    assert resolved == [1, 1]


def test_a_shared_read_says_when_it_started() -> None:
    counter = Counter()

    async def main() -> tuple[tuple[int, str], tuple[int, str]]:
        first = await live_reads.stamped("k", counter.read, "open")
        second = await live_reads.stamped("k", counter.read, "open")
        return first, second

    (t1, r1), (t2, r2) = asyncio.run(main())
    assert r1 == r2 == "rows of open"
    assert 0 < t1 <= t2
