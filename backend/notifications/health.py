"""Provider health (NOTIF-04): a circuit breaker per provider, kept in the database so every
worker process sees the same state, and the failover order per channel.

* closed: calls go through. Each retryable failure (timeout, refused connection, 5xx, 429)
  adds one to ``consecutive_failures``; a success resets it. A permanent failure (a bad
  number) is the recipient's problem, not the provider's, and changes nothing.
* open: after ``breaker_failures`` (3) consecutive failures; calls skip the provider and go
  to the channel's failover provider, if one is configured.
* half-open: ``breaker_open_seconds`` (60) after opening; calls go through as trials: a
  success closes the breaker, a failure opens it for another period. Several workers may
  send trials at the same moment; that is accepted (at most one per worker).

Counting is done with single UPDATE statements (``failures = failures + 1``), so concurrent
workers never lose a failure.

Each process remembers a breaker's row as it last read or wrote it, for ``KNOWN_FOR`` (5 s):
a delivery then costs no breaker round trips while the breaker is closed and nothing fails
(before, two extra transactions per send: the read and a success UPDATE). So a breaker opened
by another worker process is seen here up to 5 s late, and while this process knows the
breaker closed with no failures, its successes are written at most every 5 s (the success
that resets another process's failure count, and ``last_success_at``, may lag as much).
Failures are always written, and read back.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, case, select, update

from backend.core import clock
from backend.core.db import get_engine, insert_ignoring_conflict, unit_of_work
from backend.core.settings import NotificationSettings
from backend.notifications.models import ProviderHealth

_H = ProviderHealth.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class HealthOut:
    name: str
    state: BreakerState
    consecutive_failures: int
    opened_at: datetime | None
    last_error: str
    last_success_at: datetime | None


def state_of(opened_at: datetime | None, now: datetime, open_seconds: float) -> BreakerState:
    """Pure: the breaker's state from when it opened."""
    if opened_at is None:
        return BreakerState.CLOSED
    if now - opened_at >= timedelta(seconds=open_seconds):
        return BreakerState.HALF_OPEN
    return BreakerState.OPEN


def chain(channel: str, settings: NotificationSettings) -> list[str]:
    """The providers to try for ``channel``, in order: the configured one, then failover."""
    primary = str(getattr(settings, f"{channel}_provider", "outbox"))
    failover = str(getattr(settings, f"{channel}_failover_provider", "") or "")
    return [primary] + ([failover] if failover and failover != primary else [])


KNOWN_FOR = timedelta(seconds=5)


@dataclass(frozen=True)
class _Known:
    """A breaker's row as this process last read or wrote it (at ``at``)."""

    at: datetime
    opened_at: datetime | None
    failures: int
    success_at: datetime | None  # when this process last wrote a success


# Per engine (tests use a database each), per provider name.
_known: weakref.WeakKeyDictionary[Engine, dict[str, _Known]] = weakref.WeakKeyDictionary()
_known_lock = threading.Lock()


def _recall(name: str) -> _Known | None:
    with _known_lock:
        return _known.get(get_engine(), {}).get(name)


def _fresh(known: _Known | None, since: datetime | None, now: datetime) -> bool:
    return known is not None and since is not None and since <= now < since + KNOWN_FOR


def _remember(name: str, at: datetime, opened_at: datetime | None, failures: int) -> None:
    with _known_lock:
        remembered = _known.setdefault(get_engine(), {})
        before = remembered.get(name)
        success_at = before.success_at if before else None
        remembered[name] = _Known(at, opened_at, failures, success_at)


def is_open(name: str, settings: NotificationSettings) -> bool:
    """True while the provider's breaker is open (calls must skip it)."""
    now = clock.now()
    known = _recall(name)
    if known is not None and _fresh(known, known.at, now):
        opened_at = known.opened_at
    else:
        with unit_of_work() as uow:
            row = uow.session.execute(
                select(_H.c.opened_at, _H.c.consecutive_failures).where(_H.c.name == name)
            ).first()
        opened_at = row[0] if row is not None else None
        _remember(name, now, opened_at, int(row[1]) if row is not None else 0)
    return state_of(opened_at, now, settings.breaker_open_seconds) is BreakerState.OPEN


def record(name: str, *, ok: bool, retryable: bool, summary: str, s: NotificationSettings) -> None:
    """Count one call's outcome into the provider's breaker."""
    if not ok and not retryable:
        return
    now = clock.now()
    known = _recall(name)
    if (
        ok
        and known is not None
        and _fresh(known, known.at, now)
        and known.opened_at is None
        and known.failures == 0
        and _fresh(known, known.success_at, now)
    ):
        return  # closed with no failures, and this process wrote a success moments ago
    with unit_of_work() as uow:
        session = uow.session
        insert_ignoring_conflict(
            session,
            _H,
            {"name": name, "consecutive_failures": 0, "last_error": "", "updated_at": now},
            index_elements=["name"],
            returning=["name"],
        )
        values: dict[str, Any]
        if ok:
            values = {
                "consecutive_failures": 0,
                "opened_at": None,
                "last_success_at": now,
                "updated_at": now,
            }
        else:
            half_open_since = now - timedelta(seconds=s.breaker_open_seconds)
            values = {
                "consecutive_failures": _H.c.consecutive_failures + 1,
                "last_error": summary[:500],
                "updated_at": now,
                "opened_at": case(
                    # A failed trial (half-open) opens it for another period.
                    (_H.c.opened_at <= half_open_since, now),
                    (
                        _H.c.opened_at.is_(None)
                        & (_H.c.consecutive_failures + 1 >= s.breaker_failures),
                        now,
                    ),
                    else_=_H.c.opened_at,
                ),
            }
        after = session.execute(
            update(_H)
            .where(_H.c.name == name)
            .values(**values)
            .returning(_H.c.opened_at, _H.c.consecutive_failures)
        ).one()
    _remember(name, now, after[0], int(after[1]))
    if ok:
        with _known_lock:
            remembered = _known[get_engine()]
            remembered[name] = replace(remembered[name], success_at=now)


def provider_health(settings: NotificationSettings) -> list[HealthOut]:
    """Every provider that has been called, with its breaker state (for a page and /ready)."""
    now = clock.now()
    with unit_of_work() as uow:
        rows = uow.session.execute(select(_H).order_by(_H.c.name)).all()
    return [
        HealthOut(
            name=row.name,
            state=state_of(row.opened_at, now, settings.breaker_open_seconds),
            consecutive_failures=row.consecutive_failures,
            opened_at=row.opened_at,
            last_error=row.last_error,
            last_success_at=row.last_success_at,
        )
        for row in rows
    ]
