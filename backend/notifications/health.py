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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import case, select, update

from backend.core import clock
from backend.core.db import insert_ignoring_conflict, unit_of_work
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


def is_open(name: str, settings: NotificationSettings) -> bool:
    """True while the provider's breaker is open (calls must skip it)."""
    with unit_of_work() as uow:
        opened_at = uow.session.execute(
            select(_H.c.opened_at).where(_H.c.name == name)
        ).scalar_one_or_none()
    return state_of(opened_at, clock.now(), settings.breaker_open_seconds) is BreakerState.OPEN


def record(name: str, *, ok: bool, retryable: bool, summary: str, s: NotificationSettings) -> None:
    """Count one call's outcome into the provider's breaker."""
    if not ok and not retryable:
        return
    now = clock.now()
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
        session.execute(update(_H).where(_H.c.name == name).values(**values))


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
