"""iCalendar (RFC 5545) rendering of on-call shifts. Pure: the caller passes the stamp time.

One VEVENT per final shift, in UTC, with a UID stable across renders (schedule, user and
start) so calendar clients update events in place instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from icalendar import Calendar, Event

PRODID = "-//OnCall//Schedules//EN"


@dataclass(frozen=True, slots=True)
class FeedEvent:
    schedule_id: int
    schedule_name: str
    user_id: int
    user_name: str
    start: datetime
    end: datetime


def uid_of(event: FeedEvent) -> str:
    return f"oncall-{event.schedule_id}-{event.user_id}-{int(event.start.timestamp())}@oncall"


def render(name: str, events: Iterable[FeedEvent], *, stamp: datetime) -> bytes:
    """The feed called ``name`` holding ``events``; ``stamp`` becomes every DTSTAMP."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for item in events:
        event = Event()
        event.add("uid", uid_of(item))
        event.add("dtstamp", stamp)
        event.add("dtstart", item.start)
        event.add("dtend", item.end)
        event.add("summary", f"On call: {item.user_name} ({item.schedule_name})")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    body: bytes = calendar.to_ical()
    return body
