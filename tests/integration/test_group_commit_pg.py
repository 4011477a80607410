"""Group commit on PostgreSQL (``backend/core/group_commit.py``): calls waiting together share
one transaction, each caller gets its own rows only after the commit, a failing statement
fails only its own caller, and killed connections are replaced without an error."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from backend.core import db, group_commit
from backend.core.errors import ServiceUnavailable
from backend.core.group_commit import call_grouped
from tests.integration.conftest import admin_connection

pytestmark = pytest.mark.integration
CALLERS = 40
INSERT = "INSERT INTO gc_probe (n) VALUES (%s) RETURNING n, 100 / n, txid_current()"


@pytest.fixture
def probe(engine: Engine, pg_database: str) -> Iterator[Engine]:
    """The process-wide engine on this test's own database, with a table to write to."""
    pg_engine = db.build_engine(pg_database)
    with pg_engine.begin() as conn:
        conn.execute(text("CREATE TABLE gc_probe (n integer PRIMARY KEY)"))
    db.set_engine(pg_engine)
    yield pg_engine
    db.set_engine(None)


def _all_at_once(values: list[int]) -> list[Any]:
    """``call_grouped`` from one thread per value, released together; rows or the error."""
    start = threading.Barrier(len(values))

    def one(n: int) -> Any:
        start.wait()
        try:
            return call_grouped(INSERT, (n,))
        except Exception as exc:  # the outcome under test
            return exc

    with ThreadPoolExecutor(len(values)) as pool:
        return list(pool.map(one, values))


def _stored(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return {int(n) for (n,) in conn.execute(text("SELECT n FROM gc_probe"))}


def test_calls_waiting_together_share_a_transaction_and_each_gets_its_own_rows(
    probe: Engine,
) -> None:
    values = list(range(1, CALLERS + 1))
    results = _all_at_once(values)
    assert [r[0][:2] for r in results] == [(n, 100 // n) for n in values]
    transactions = {r[0][2] for r in results}
    assert len(transactions) < CALLERS  # grouped: fewer commits than calls
    assert _stored(probe) == set(values)


def test_a_failing_statement_fails_only_its_caller(probe: Engine) -> None:
    values = [*range(1, CALLERS), 0]  # 100 / 0 fails inside the statement
    results = _all_at_once(values)
    failed = [(n, r) for n, r in zip(values, results, strict=True) if isinstance(r, Exception)]
    assert [n for n, _ in failed] == [0]
    assert isinstance(failed[0][1], psycopg.errors.DivisionByZero)
    # Everyone else committed (the batch that held 0 was rolled back and split).
    assert _stored(probe) == set(range(1, CALLERS))


def test_killed_connections_are_replaced_without_an_error(probe: Engine, pg_url: str) -> None:
    assert call_grouped(INSERT, (1,))[0][:2] == (1, 100)
    name = probe.url.database
    with admin_connection(pg_url) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
    results = _all_at_once(list(range(2, 12)))
    assert not [r for r in results if isinstance(r, Exception)]
    assert _stored(probe) == set(range(1, 12))


def test_a_database_that_is_gone_is_service_unavailable(engine: Engine, closed_port: int) -> None:
    db.set_engine(db.build_engine(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port}/x"))
    try:
        with pytest.raises(ServiceUnavailable):
            call_grouped("SELECT 1", ())
    finally:
        db.set_engine(None)


def test_an_unexpected_failure_reaches_the_caller_and_the_sender_keeps_going(
    probe: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = group_commit._send
    broken = {"left": 1}

    def send_once_broken(calls: list[Any]) -> None:
        if broken["left"]:
            broken["left"] -= 1
            raise RuntimeError("a bug in the sender")
        real(calls)

    monkeypatch.setattr(group_commit, "_send", send_once_broken)
    with pytest.raises(RuntimeError, match="a bug in the sender"):
        call_grouped(INSERT, (1,))
    assert call_grouped(INSERT, (2,))[0][:2] == (2, 50)  # the same sender thread, still alive
    assert _stored(probe) == {2}
