"""Rotation lengths as RRULEs, and the handoff index at any wall time in O(1). Pure.

A layer hands off at every occurrence of its RRULE (RFC 5545), anchored at the layer's start
date and handoff time in the schedule's zone. We accept the subset that describes an endless
rotation:

* ``FREQ=DAILY`` or ``FREQ=WEEKLY`` with optional ``INTERVAL``, ``BYDAY`` (plain weekdays,
  e.g. ``MO,TH`` for two handoffs a week) and ``WKST``;
* ``FREQ=MONTHLY`` with optional ``INTERVAL`` (the start day must be 1-28 so every month has
  it).

``COUNT``/``UNTIL`` (a rotation is infinite), ``BYHOUR``/``BYMINUTE``/``BYSECOND`` (the handoff
time is its own field) and the other ``BY*`` parts are refused.

Why arithmetic: the occurrences of such a rule form a periodic set. For DAILY/WEEKLY with
period ``P`` (``INTERVAL`` days, ``INTERVAL`` weeks, or ``lcm(INTERVAL, 7)`` days for a daily
rule with ``BYDAY``) and ``m`` occurrences in the first period, occurrence ``j + m`` is
occurrence ``j`` plus ``P``. So the index of the last handoff before any wall time is one
division and a bisect over ``m`` offsets, instead of enumerating from the rotation start.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from dateutil.rrule import rrulestr

_ALLOWED_PARTS = {"FREQ", "INTERVAL", "BYDAY", "WKST"}
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_MAX_INTERVAL = 366


class InvalidRule(ValueError):
    """The RRULE text is not one we can rotate on; the message says why."""


@dataclass(frozen=True, slots=True)
class Cadence:
    """Handoff wall times: ``first``, then ``offsets`` repeating every ``period``/``months``."""

    first: datetime
    period: timedelta
    offsets: tuple[timedelta, ...]
    months: int = 0

    def wall_of(self, k: int) -> datetime:
        """The naive wall time of handoff ``k`` (``k >= 0``)."""
        if self.months:
            return _add_months(self.first, k * self.months)
        q, j = divmod(k, len(self.offsets))
        return self.first + q * self.period + self.offsets[j]

    def index_at(self, wall: datetime) -> int:
        """The index of the last handoff at or before ``wall``; -1 before the first."""
        if wall < self.first:
            return -1
        if self.months:
            elapsed = (wall.year - self.first.year) * 12 + wall.month - self.first.month
            k = elapsed // self.months
            return k if self.wall_of(k) <= wall else k - 1
        q, rest = divmod(wall - self.first, self.period)
        j = bisect.bisect_right(self.offsets, rest) - 1
        return q * len(self.offsets) + j


def _add_months(value: datetime, months: int) -> datetime:
    years, month0 = divmod(value.month - 1 + months, 12)
    return value.replace(year=value.year + years, month=month0 + 1)


def _parts(text: str) -> dict[str, str]:
    body = text.strip().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for item in filter(None, body.split(";")):
        key, sep, value = item.partition("=")
        key = key.strip().upper()
        if not sep or not value.strip():
            raise InvalidRule(f"'{item}' is not NAME=VALUE")
        if key in parts:
            raise InvalidRule(f"{key} appears twice")
        parts[key] = value.strip().upper()
    return parts


def _check_parts(parts: dict[str, str]) -> tuple[str, int]:
    unknown = sorted(set(parts) - _ALLOWED_PARTS)
    if unknown:
        raise InvalidRule(
            f"{', '.join(unknown)} not supported: use FREQ, INTERVAL, BYDAY and WKST "
            "(a rotation never ends, and the handoff time is its own field)"
        )
    freq = parts.get("FREQ", "")
    if freq not in ("DAILY", "WEEKLY", "MONTHLY"):
        raise InvalidRule("FREQ must be DAILY, WEEKLY or MONTHLY")
    interval_text = parts.get("INTERVAL", "1")
    if not interval_text.isdigit() or not 1 <= int(interval_text) <= _MAX_INTERVAL:
        raise InvalidRule(f"INTERVAL must be a whole number from 1 to {_MAX_INTERVAL}")
    days = parts.get("BYDAY", "")
    if days and (freq == "MONTHLY" or any(d not in _WEEKDAYS for d in days.split(","))):
        raise InvalidRule("BYDAY takes plain weekdays (MO,TU,…) with DAILY or WEEKLY only")
    if parts.get("WKST", "MO") not in _WEEKDAYS:
        raise InvalidRule("WKST must be a weekday (MO,TU,…)")
    return freq, int(interval_text)


# Parsing with dateutil costs far more than a lookup; schedules are rebuilt per request from
# the same few rules, and the result is immutable.
@lru_cache(maxsize=4096)
def parse_rule(text: str, anchor: datetime) -> Cadence:
    """The cadence of ``text`` anchored at the naive wall time ``anchor``.

    Raises:
        InvalidRule: the text is not a supported, endless RRULE.
    """
    parts = _parts(text)
    freq, interval = _check_parts(parts)
    if freq == "MONTHLY":
        if anchor.day > 28:
            raise InvalidRule("a monthly rotation must start on day 1 to 28 of a month")
        return Cadence(first=anchor, period=timedelta(0), offsets=(timedelta(0),), months=interval)
    if freq == "WEEKLY":
        period = timedelta(weeks=interval)
    elif "BYDAY" in parts:
        period = timedelta(days=math.lcm(interval, 7))
    else:
        period = timedelta(days=interval)
    body = ";".join(f"{key}={value}" for key, value in parts.items())
    rule = rrulestr(body, dtstart=anchor)
    first = rule.after(anchor, inc=True)
    if first is None:  # pragma: no cover - every accepted rule recurs
        raise InvalidRule("the rule has no occurrences")
    # A period holds at most one occurrence per weekday.
    offsets = tuple(
        occurrence - first
        for occurrence in rule.xafter(first, count=len(_WEEKDAYS) + 1, inc=True)
        if occurrence - first < period
    )
    return Cadence(first=first, period=period, offsets=offsets)
