"""Group commit for one-statement commands: the calls waiting at the same moment, sent together.

ADR 0010 made a firing alert one statement in driver autocommit (``db.call_atomically``).
Under load every ingest thread still paid its own round trip, pool checkout and commit, and
PostgreSQL spent about a third of its CPU per alert on that (docs/benchmarks.md: 0.73 against
0.47 ms of backend CPU per call with 12 connections). Here one sender thread per process
takes every call waiting and runs them as one transaction in one pipeline (one round trip:
BEGIN, the statements, COMMIT); each caller returns once that commit is done, so a 202 still
means committed. Alone, a call is a batch of one: the same single round trip as before.

If anything in a batch fails, the batch is rolled back (none of it committed) and each of its
calls is run again on its own with ``call_atomically``: one bad statement fails only its own
caller, a lost connection is retried and a dead database is a 503 exactly as there. The
statement must be safe to repeat, as ``call_atomically`` already requires (the ingest
function's idempotency claim answers a repeat of a delivery that did commit as a repeat).

The statements of one batch run in one transaction, so they must not depend on each other's
locks in an order another batch could reverse: the ingest function's writes are inserts under
unique keys and a shared advisory lock per incident; if PostgreSQL ever found a deadlock
between two batches, the loser is rolled back and its calls re-run one by one.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy.engine import Engine

from backend.core.db import atomic_engine, call_atomically, get_engine

log = structlog.get_logger(__name__)
MAX_BATCH = 64


class _Done:
    """Set once by the sender thread, waited on once by the caller: a lock taken at creation
    and released by the sender. A ``threading.Event`` builds a Condition (a lock, a waiter lock
    and a list) per call, and its ``set``'s notify was ~4 % of the API's CPU per alert under
    load (py-spy, 2026-12-04)."""

    __slots__ = ("_lock", "_set")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self._set = False

    def set(self) -> None:
        if not self._set:  # only the sender thread sets
            self._set = True
            self._lock.release()

    def is_set(self) -> bool:
        return self._set

    def wait(self) -> None:
        self._lock.acquire()


@dataclass
class _Call:
    engine: Engine
    sql: str
    params: tuple[Any, ...]
    done: _Done = field(default_factory=_Done)
    rows: list[tuple[Any, ...]] | None = None
    error: BaseException | None = None


_start_lock = threading.Lock()
_pid = -1
_waiting: queue.SimpleQueue[_Call] = queue.SimpleQueue()


def call_grouped(
    sql: str, params: Sequence[Any], engine: Engine | None = None
) -> list[tuple[Any, ...]]:
    """``call_atomically``'s contract (one statement, committed on return, its rows), sent
    together with the other calls waiting in this process.

    Raises:
        ServiceUnavailable: the database could not be reached (nothing of this call stored).
    """
    call = _Call(engine or get_engine(), sql, tuple(params))
    _sender().put(call)
    call.done.wait()
    if call.error is not None:
        raise call.error
    assert call.rows is not None
    return call.rows


def _sender() -> queue.SimpleQueue[_Call]:
    # Started on first use in each process: granian forks its workers after import, and a
    # thread does not survive a fork (the child gets a fresh queue and its own sender).
    global _pid, _waiting
    pid = os.getpid()
    if _pid != pid:
        with _start_lock:
            if _pid != pid:
                _waiting = queue.SimpleQueue()
                threading.Thread(
                    target=_send_forever, args=(_waiting,), name="group-commit", daemon=True
                ).start()
                _pid = pid
    return _waiting


def _send_forever(waiting: queue.SimpleQueue[_Call]) -> None:
    while True:
        batch = [waiting.get()]
        while len(batch) < MAX_BATCH:
            try:
                batch.append(waiting.get_nowait())
            except queue.Empty:
                break
        by_engine: dict[int, list[_Call]] = {}
        for call in batch:
            by_engine.setdefault(id(call.engine), []).append(call)
        for calls in by_engine.values():
            try:
                _send(calls)
            except BaseException as exc:  # a bug here must not leave callers waiting forever
                log.exception("group_commit_failed", calls=len(calls))
                for call in calls:
                    if not call.done.is_set():
                        call.error = exc
                        call.done.set()


def _send(calls: list[_Call]) -> None:
    try:
        results = _together(calls)
    except Exception:
        # Nothing of the batch committed: each call on its own, with its own outcome.
        log.info("group_commit_split", calls=len(calls), exc_info=True)
        for call in calls:
            try:
                call.rows = call_atomically(call.sql, call.params, call.engine)
            except BaseException as exc:  # handed to its caller, who raises it
                call.error = exc
            call.done.set()
        return
    for call, rows in zip(calls, results, strict=True):
        call.rows = rows
        call.done.set()


def _together(calls: list[_Call]) -> list[list[tuple[Any, ...]]]:
    """Every call in one transaction and one round trip; their rows once it has committed."""
    pooled = atomic_engine(calls[0].engine).raw_connection()
    driver: Any = pooled.driver_connection  # psycopg.Connection
    try:
        driver.autocommit = False
        cursors = []
        with driver.pipeline():
            for call in calls:
                cursor = driver.cursor()
                cursor.execute(call.sql, call.params)
                cursors.append(cursor)
            driver.commit()
        return [[tuple(row) for row in cursor.fetchall()] for cursor in cursors]
    except BaseException:
        try:
            driver.rollback()
        except Exception:
            pooled.invalidate()  # the connection is gone: never hand it out again
        raise
    finally:
        pooled.close()
