"""Engine factory, the metadata naming convention, portable column types and the unit of work.

This is the only module that may branch on the database dialect.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Insert,
    MetaData,
    Row,
    String,
    Table,
    TextClause,
    event,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

from backend.core import clock
from backend.core.errors import ServiceUnavailable, ValidationFailed
from backend.core.settings import get_settings

# Stable constraint names make Alembic autogenerate and batch mode on SQLite deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite drops the zone on the way back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetime given to a UTC column; use backend.core.clock"
            raise ValueError(msg)
        value = clock.as_utc(value)
        # SQLite stores text; keep it naive UTC so comparisons sort correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else clock.as_utc(value)


class StrEnumType(TypeDecorator[StrEnum]):
    """A StrEnum stored as plain VARCHAR and read back as the enum (no native DB enum types,
    so adding a value never needs an ALTER TYPE)."""

    impl = String
    cache_ok = True

    def __init__(self, enum_cls: type[StrEnum], length: int = 32) -> None:
        super().__init__(length)
        self.enum_cls = enum_cls

    def process_bind_param(self, value: StrEnum | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_cls(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum_cls(value)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the single writer; busy_timeout queues writers instead of
    # failing at once; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_INT64 = range(-(2**63), 2**63)


def _sqlite_int_range(
    _conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool
) -> None:
    """Refuse integers SQLite cannot bind (past 64 bits) as the client's error, not a crash.

    An id such as ``/teams/99999999999999999999`` passes validation (ids are plain ints) and
    sqlite3 raises OverflowError while binding it. PostgreSQL binds it as numeric and simply
    finds no row.
    """
    if any(v not in _INT64 for v in _ints(parameters)):
        raise ValidationFailed("A number is out of range (at most 64 bits).")


def _ints(value: Any) -> Iterator[int]:
    """The ints in DB-API parameters: one row (tuple or dict) or many (a list of rows)."""
    if type(value) is int:
        yield value
    elif isinstance(value, list | tuple | dict):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _ints(item)


def build_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """Create an engine for ``url`` with the settings each dialect needs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        in_memory = database in ("", ":memory:")
        if not in_memory:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False},
            poolclass=StaticPool if in_memory else None,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "before_cursor_execute", _sqlite_int_range)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        # psycopg 3 is our one PostgreSQL driver; accept plain postgresql:// URLs.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(
        parsed,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5},
    )


_engine_lock = threading.Lock()
_engine: Engine | None = None


def get_engine() -> Engine:
    """The process-wide engine, built from settings on first use."""
    global _engine
    with _engine_lock:
        if _engine is None:
            db = get_settings().database
            _engine = build_engine(db.url, echo=db.echo, pool_size=db.pool_size)
        return _engine


def set_engine(engine: Engine | None) -> None:
    """Replace the process-wide engine (tests, CLI with an explicit URL)."""
    global _engine
    _dispose_atomic_engines()
    with _engine_lock:
        if _engine is not None and engine is not _engine:
            _engine.dispose()
        _engine = engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def advisory_lock(session: Session, namespace: int, key: int, *, shared: bool) -> None:
    """Take a transaction-scoped advisory lock on (``namespace``, ``key``), waiting for it.

    PostgreSQL's lock manager queues requests in order, so a shared request arriving after a
    waiting exclusive one waits too: a steady stream of shared holders cannot starve the
    exclusive one (unlike row share locks). Nothing on SQLite, where one writer runs at a time.
    """
    if session.get_bind().dialect.name == "sqlite":
        return
    lock = func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
    session.execute(select(lock(namespace, key)))


def insert_ignoring_conflict(
    session: Session,
    table: Table,
    values: dict[str, Any],
    *,
    index_elements: list[str],
    returning: list[str],
    index_where: ColumnElement[bool] | TextClause | None = None,
) -> Row[Any] | None:
    """``INSERT … ON CONFLICT (index_elements) [WHERE …] DO NOTHING RETURNING …``.

    Returns the inserted row's ``returning`` columns, or None when a conflicting row exists
    (the caller re-selects it). On PostgreSQL a conflicting insert by a concurrent transaction
    waits for it to commit, so "None" always means a committed row won the race.
    """
    stmt = _insert_ignoring_conflict(
        session.get_bind().dialect.name,
        table,
        tuple(index_elements),
        tuple(returning),
        index_where,
    )
    return session.execute(stmt, values).first()


@functools.lru_cache(maxsize=128)
def _insert_ignoring_conflict(
    dialect: str,
    table: Table,
    index_elements: tuple[str, ...],
    returning: tuple[str, ...],
    index_where: ColumnElement[bool] | TextClause | None,
) -> Insert:
    """The statement for one shape of call, built once (the hot paths call this per alert and
    per page; building a statement and its cache key costs more than compiling it). The
    columns are the keys of the values it is executed with."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=list(index_elements), index_where=index_where)
        .returning(*(table.c[name] for name in returning))
    )


class UnitOfWork:
    """One transaction plus the work that must only happen once it has committed.

    Services register side effects (enqueue a job, publish a domain event) with
    :meth:`after_commit`; they run only after a successful commit, so a job never sees a row
    that is not there and an event never announces a change that was rolled back.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, fn: Callable[[], None]) -> None:
        self._after_commit.append(fn)

    def run_after_commit(self) -> None:
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            hook()


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[UnitOfWork]:
    """Open a transaction; commit on success, roll back on error, then run after-commit hooks.

    Raises:
        ServiceUnavailable: the database could not be reached (maps to 503 + Retry-After).
    """
    session = Session(engine or get_engine(), expire_on_commit=False)
    uow = UnitOfWork(session)
    try:
        yield uow
        session.commit()
    except (OperationalError, InterfaceError) as exc:
        session.rollback()
        if exc.connection_invalidated or _is_connection_error(exc):
            raise ServiceUnavailable("The database is unavailable; retry shortly.") from exc
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    uow.run_after_commit()


def call_atomically(
    sql: str, params: Sequence[Any] | Mapping[str, Any], engine: Engine | None = None
) -> list[tuple[Any, ...]]:
    """Run ONE statement as a transaction of its own (driver autocommit) and return its rows.

    For a PostgreSQL function that does a whole command (ADR 0010): PostgreSQL runs a single
    statement atomically, so this is one round trip where a unit of work costs BEGIN, each
    statement and COMMIT. It has returned only once the statement has committed. Straight on
    the pooled driver connection (no ORM, no SQLAlchemy result machinery: this is the ingest
    hot path), no after-commit hooks: the caller runs its own after a successful return.
    ``sql`` uses the driver's ``%s`` placeholders, or ``%(name)s`` ones with a mapping.

    The connection comes from a pool of its own without the pre-ping round trip (see
    :func:`atomic_engine`): a connection found dead is replaced and the statement sent once
    more on a fresh one, so the statement must be safe to repeat (the ingest function's
    idempotency claim answers a repeat of a delivery that did commit as a repeat).

    Raises:
        ServiceUnavailable: the database could not be reached (maps to 503 + Retry-After).
    """
    eng = atomic_engine(engine or get_engine())
    try:
        return _call_once(eng, sql, params)
    except _LostConnection:
        # Every idle connection may be as dead as this one (a restarted server): drop them all
        # (the ones other threads hold are dropped when returned), then try once more.
        eng.dispose()
    try:
        return _call_once(eng, sql, params)
    except _LostConnection as exc:
        raise ServiceUnavailable("The database is unavailable; retry shortly.") from exc.__cause__


class _LostConnection(Exception):
    """The connection died under the statement (raised from the driver's error)."""


def _call_once(
    eng: Engine, sql: str, params: Sequence[Any] | Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    try:
        pooled = eng.raw_connection()
    # The pool raises the driver's own error when it cannot (re)connect: not wrapped by
    # SQLAlchemy (found by tests/reliability/test_postgres_restart.py: 500s instead of 503s).
    except (OperationalError, InterfaceError, eng.dialect.loaded_dbapi.OperationalError) as exc:
        raise ServiceUnavailable("The database is unavailable; retry shortly.") from exc
    driver: Any = pooled.driver_connection  # psycopg.Connection (checked out: never None)
    cursor = None
    try:
        driver.autocommit = True
        cursor = driver.cursor()
        cursor.execute(sql, params if isinstance(params, Mapping) else tuple(params))
        rows = [tuple(row) for row in cursor.fetchall()]
        cursor.close()
        driver.autocommit = False
        return rows
    except eng.dialect.loaded_dbapi.Error as exc:
        lost = (
            driver.closed
            or eng.dialect.is_disconnect(exc, pooled.dbapi_connection, cursor)
            or any(marker in str(exc).lower() for marker in _CONNECTION_ERROR_MARKERS)
        )
        if lost:
            pooled.invalidate(exc)
            raise _LostConnection() from exc
        driver.autocommit = False  # idle again: the failed statement rolled itself back
        raise
    finally:
        pooled.close()  # back to the pool (a no-op once invalidated)


_atomic_engines: dict[int, tuple[Engine, Engine]] = {}


def atomic_engine(main: Engine) -> Engine:
    """The pool :func:`call_atomically` draws from: beside ``main``'s, same URL and size, but
    without ``pool_pre_ping``. The pre-ping is a whole round trip per checkout, about a tenth
    of the ingest hot path's work (docs/benchmarks.md); a statement that may be repeated can
    instead be retried on a fresh connection. SQLite has no server to lose: ``main`` itself.
    """
    if is_sqlite(main):
        return main
    with _engine_lock:
        known = _atomic_engines.get(id(main))
        if known is None or known[0] is not main:
            size = main.pool.size() if hasattr(main.pool, "size") else 10
            atomic = create_engine(
                main.url,
                pool_size=size,
                max_overflow=size,
                pool_pre_ping=False,
                connect_args={"connect_timeout": 5},
            )
            known = (main, atomic)
            _atomic_engines[id(main)] = known
        return known[1]


def _dispose_atomic_engines() -> None:
    """Close the hot-path pools (their engines are being replaced: tests drop databases)."""
    with _engine_lock:
        engines = [atomic for _, atomic in _atomic_engines.values()]
        _atomic_engines.clear()
    for atomic in engines:
        atomic.dispose()


_CONNECTION_ERROR_MARKERS = (
    "connection",
    "could not connect",
    "server closed",
    "terminating",
    "timeout",
)


def _is_connection_error(exc: OperationalError | InterfaceError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else ""
    return any(marker in text for marker in _CONNECTION_ERROR_MARKERS)
