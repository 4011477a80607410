"""Local wall-clock time in a schedule's zone ↔ UTC instants, with explicit DST rules. Pure.

Schedules are defined in wall-clock time ("handoff at 09:00 Berlin time") but stored and
compared as UTC instants. Two wall times need a rule:

* **Skipped** (spring forward, e.g. 02:30 on 2024-03-10 in New York): the wall time does not
  exist. It resolves to **the first instant after the gap**, i.e. the transition itself
  (03:00 EDT = 07:00Z), not to "02:30 + the gap length" (03:30), so a handoff inside the gap
  happens as soon as the clocks allow and never later than the next existing wall time.
* **Repeated** (fall back, e.g. 01:30 on 2024-11-03 in New York): the wall time happens twice.
  It resolves to **the first occurrence** (``fold=0``, 01:30 EDT = 05:30Z).

Both rules make :func:`to_utc` non-decreasing in the wall time, which the rotation arithmetic
relies on, and ``to_utc(to_wall(t)) <= t`` for every instant ``t``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_SECOND = timedelta(seconds=1)


def to_wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock time in ``zone`` at an aware ``instant``."""
    return instant.astimezone(zone).replace(tzinfo=None)


def to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive wall-clock time in ``zone`` (skipped → first instant after
    the gap, repeated → first occurrence)."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if to_wall(first, zone) == wall:
        return first
    return _end_of_gap(wall, zone)


def _end_of_gap(wall: datetime, zone: ZoneInfo) -> datetime:
    """The transition instant of the gap that swallows ``wall``.

    ``fold=0`` reads the wall time with the offset before the gap and lands after the
    transition; ``fold=1`` uses the offset after it and lands before. tzdata transitions fall
    on whole seconds, so a binary search over that (at most a few hours') span is exact.
    """
    after = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = before, after
    offset_after = after.astimezone(zone).utcoffset()
    while high - low > _SECOND:
        middle = low + (high - low) // 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return high


def zone_or_none(name: str) -> ZoneInfo | None:
    """The zone called ``name``, or None when it is not an IANA zone we know."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return None
