"""Who is on call: layer shifts, the final schedule and gaps for any [start, end). Pure.

No database, no clock: the service loads rows, builds a :class:`Schedule` and asks it. All
instants in and out are aware UTC datetimes; rotations and restrictions are defined in the
schedule zone's wall-clock time and converted with the DST rules of
:mod:`backend.schedules.wallclock` (skipped wall time → first instant after the gap, repeated
wall time → first occurrence).

Precedence at an instant, highest first:

1. **Overrides.** If several overlap (the service refuses that, but the maths must still be
   defined), the one given last wins.
2. **Layers**, higher ``priority`` first (equal priorities: the layer given last wins). A layer
   covers an instant when its rotation has started and, if it has restrictions, one of its
   windows is open.
3. **Swaps** change who holds a layer's time: inside an accepted swap's range, time the layers
   give to ``from_user`` goes to ``to_user``.

Nobody from any of these → a gap.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from backend.schedules.cadence import parse_rule
from backend.schedules.wallclock import to_utc, to_wall

_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)
_DAYS_CACHED = 4096


class Source(StrEnum):
    LAYER = "layer"
    OVERRIDE = "override"
    SWAP = "swap"


@dataclass(frozen=True, slots=True)
class Window:
    """A weekly time-of-day window in the schedule's zone.

    Opens at ``start`` on each weekday in ``days`` (0 = Monday) and closes at ``end`` the same
    day, or the next day when ``end <= start`` (so ``00:00``-``00:00`` is the whole day).
    """

    days: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class LayerSpec:
    key: int
    name: str
    priority: int
    participants: tuple[int, ...]
    rrule: str
    handoff: time
    starts_on: date
    restrictions: tuple[Window, ...] = ()


@dataclass(frozen=True, slots=True)
class Override:
    start: datetime
    end: datetime
    user_id: int
    key: int | None = None


@dataclass(frozen=True, slots=True)
class Swap:
    start: datetime
    end: datetime
    from_user: int
    to_user: int
    key: int | None = None


@dataclass(frozen=True, slots=True)
class Shift:
    """Someone on call over ``[start, end)``, and why (``layer`` key, override/swap ``ref``)."""

    start: datetime
    end: datetime
    user_id: int
    source: Source
    layer: int | None = None
    ref: int | None = None


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime


class Layer:
    """One compiled rotation: handoff instants, shifts and restriction windows."""

    def __init__(self, spec: LayerSpec, zone: ZoneInfo) -> None:
        self.spec = spec
        self.zone = zone
        self.cadence = parse_rule(spec.rrule, datetime.combine(spec.starts_on, spec.handoff))
        self._by_day: dict[date, tuple[Interval, ...]] = {}

    def handoff(self, k: int) -> datetime:
        """The UTC instant of handoff ``k``."""
        return to_utc(self.cadence.wall_of(k), self.zone)

    def index_at(self, instant: datetime) -> int:
        """The rotation index in force at ``instant``; -1 before the first handoff."""
        k = self.cadence.index_at(to_wall(instant, self.zone))
        # The wall-time index is never ahead (to_utc(to_wall(t)) <= t), but in a repeated hour
        # the next handoff may already have happened at its first occurrence.
        while self.handoff(k + 1) <= instant:
            k += 1
        return k

    def user_at(self, instant: datetime) -> int | None:
        """Who this layer puts on call at ``instant``, ignoring other layers."""
        if not self.spec.participants:
            return None
        if self.spec.restrictions and not self.windows(instant, instant + _TICK):
            return None
        k = self.index_at(instant)
        if k < 0:
            return None
        return self.spec.participants[k % len(self.spec.participants)]

    def rotation(self, start: datetime, end: datetime) -> list[Shift]:
        """Rotation shifts clipped to ``[start, end)``, before restrictions."""
        shifts: list[Shift] = []
        participants = self.spec.participants
        if not participants or start >= end:
            return shifts
        k = max(self.index_at(start), 0)
        begin = self.handoff(k)
        while begin < end:
            following = self.handoff(k + 1)
            lo, hi = max(begin, start), min(following, end)
            if lo < hi:
                user = participants[k % len(participants)]
                shifts.append(Shift(lo, hi, user, Source.LAYER, self.spec.key))
            k += 1
            begin = following
        return shifts

    def windows(self, start: datetime, end: datetime) -> list[Interval]:
        """The restriction windows open within ``[start, end)``, merged and clipped."""
        # A window lasts at most a wall-clock day and never ends before the wall time it
        # ends at resolves, so windows opening the day before ``start`` may reach into it;
        # one opening the day after ``end``'s wall date may still begin before ``end`` when a
        # repeated hour crosses midnight.
        day = to_wall(start, self.zone).date() - _DAY
        last = to_wall(end, self.zone).date() + _DAY
        found: list[Interval] = []
        while day <= last:
            for window in self._day_windows(day):
                lo, hi = max(window.start, start), min(window.end, end)
                if lo < hi:
                    found.append(Interval(lo, hi))
            day += _DAY
        return merge(found)

    def _day_windows(self, day: date) -> tuple[Interval, ...]:
        """The windows opening on the local date ``day`` (memoised: "now" is asked often)."""
        cached = self._by_day.get(day)
        if cached is None:
            cached = tuple(
                self._window_on(day, window)
                for window in self.spec.restrictions
                if day.weekday() in window.days
            )
            if len(self._by_day) >= _DAYS_CACHED:
                self._by_day.clear()
            self._by_day[day] = cached
        return cached

    def _window_on(self, day: date, window: Window) -> Interval:
        closes_on = day if window.end > window.start else day + _DAY
        return Interval(
            to_utc(datetime.combine(day, window.start), self.zone),
            to_utc(datetime.combine(closes_on, window.end), self.zone),
        )

    def shifts(self, start: datetime, end: datetime) -> list[Shift]:
        """This layer's shifts within ``[start, end)``, cut to its restriction windows."""
        rotation = self.rotation(start, end)
        if not self.spec.restrictions:
            return rotation
        return intersect(rotation, self.windows(start, end))


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping or touching intervals joined."""
    merged: list[Interval] = []
    for item in sorted(intervals, key=lambda i: i.start):
        if merged and item.start <= merged[-1].end:
            if item.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, item.end)
        else:
            merged.append(item)
    return merged


def intersect(shifts: Sequence[Shift], windows: Sequence[Interval]) -> list[Shift]:
    """The parts of ``shifts`` inside ``windows`` (both sorted and non-overlapping)."""
    result: list[Shift] = []
    i = j = 0
    while i < len(shifts) and j < len(windows):
        shift, window = shifts[i], windows[j]
        lo, hi = max(shift.start, window.start), min(shift.end, window.end)
        if lo < hi:
            result.append(Shift(lo, hi, shift.user_id, shift.source, shift.layer))
        if shift.end <= window.end:
            i += 1
        else:
            j += 1
    return result


@dataclass(frozen=True, slots=True)
class OnCall:
    user_id: int
    source: Source
    layer: int | None = None
    ref: int | None = None


class Schedule:
    """A schedule's layers, overrides and accepted swaps, ready to answer questions."""

    def __init__(
        self,
        zone: str | ZoneInfo,
        layers: Sequence[LayerSpec],
        overrides: Sequence[Override] = (),
        swaps: Sequence[Swap] = (),
    ) -> None:
        self.zone = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
        ranked = sorted(enumerate(layers), key=lambda p: (p[1].priority, p[0]), reverse=True)
        # Highest precedence first.
        self.layers = [Layer(spec, self.zone) for _, spec in ranked]
        self.overrides = list(reversed(overrides))
        self.swaps = list(swaps)

    def oncall_at(self, instant: datetime) -> OnCall | None:
        """Who is on call at ``instant`` and why; None in a gap."""
        for override in self.overrides:
            if override.start <= instant < override.end:
                return OnCall(override.user_id, Source.OVERRIDE, None, override.key)
        for layer in self.layers:
            user = layer.user_at(instant)
            if user is not None:
                return self._swapped(OnCall(user, Source.LAYER, layer.spec.key), instant)
        return None

    def _swapped(self, oncall: OnCall, instant: datetime) -> OnCall:
        for swap in self.swaps:
            if swap.from_user == oncall.user_id and swap.start <= instant < swap.end:
                return OnCall(swap.to_user, Source.SWAP, oncall.layer, swap.key)
        return oncall

    def layer_shifts(self, start: datetime, end: datetime) -> dict[int, list[Shift]]:
        """Each layer's own shifts in ``[start, end)`` (before precedence), by layer key."""
        return {layer.spec.key: layer.shifts(start, end) for layer in self.layers}

    def final(self, start: datetime, end: datetime) -> list[Shift]:
        """The final schedule in ``[start, end)``: maximal stretches of one person from one
        source, sorted, never overlapping; what is not covered is a gap."""
        if start >= end:
            return []
        per_layer = [layer.shifts(start, end) for layer in self.layers]
        overrides = [o for o in self.overrides if o.start < end and o.end > start]
        swaps = [s for s in self.swaps if s.start < end and s.end > start]
        cuts = {start, end}
        for shift in (s for shifts in per_layer for s in shifts):
            cuts.update((shift.start, shift.end))
        ranges: list[Override | Swap] = [*overrides, *swaps]
        for item in ranges:
            cuts.update((max(item.start, start), min(item.end, end)))
        points = sorted(cuts)
        cursors = [0] * len(per_layer)
        pieces: list[Shift] = []
        for lo, hi in itertools.pairwise(points):
            owner = self._owner(lo, overrides, swaps, per_layer, cursors)
            if owner is not None:
                _append(pieces, Shift(lo, hi, owner.user_id, owner.source, owner.layer, owner.ref))
        return pieces

    def _owner(
        self,
        instant: datetime,
        overrides: list[Override],
        swaps: list[Swap],
        per_layer: list[list[Shift]],
        cursors: list[int],
    ) -> OnCall | None:
        for override in overrides:
            if override.start <= instant < override.end:
                return OnCall(override.user_id, Source.OVERRIDE, None, override.key)
        found: OnCall | None = None
        for index, shifts in enumerate(per_layer):
            # Instants only move forward, so each layer keeps a cursor into its shifts.
            while cursors[index] < len(shifts) and shifts[cursors[index]].end <= instant:
                cursors[index] += 1
            current = shifts[cursors[index]] if cursors[index] < len(shifts) else None
            if found is None and current is not None and current.start <= instant:
                found = OnCall(current.user_id, Source.LAYER, current.layer)
        if found is None:
            return None
        for swap in swaps:
            if swap.from_user == found.user_id and swap.start <= instant < swap.end:
                return OnCall(swap.to_user, Source.SWAP, found.layer, swap.key)
        return found

    def gaps(self, start: datetime, end: datetime) -> list[Interval]:
        """The stretches of ``[start, end)`` where nobody is on call."""
        return complement(self.final(start, end), start, end)


def _append(pieces: list[Shift], piece: Shift) -> None:
    last = pieces[-1] if pieces else None
    if (
        last is not None
        and last.end == piece.start
        and (last.user_id, last.source, last.layer, last.ref)
        == (piece.user_id, piece.source, piece.layer, piece.ref)
    ):
        pieces[-1] = Shift(last.start, piece.end, last.user_id, last.source, last.layer, last.ref)
    else:
        pieces.append(piece)


def complement(shifts: Sequence[Shift], start: datetime, end: datetime) -> list[Interval]:
    """The parts of ``[start, end)`` that no shift covers (shifts sorted, non-overlapping)."""
    gaps: list[Interval] = []
    cursor = start
    for shift in shifts:
        if shift.start > cursor:
            gaps.append(Interval(cursor, shift.start))
        cursor = max(cursor, shift.end)
    if cursor < end:
        gaps.append(Interval(cursor, end))
    return gaps
