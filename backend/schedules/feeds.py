"""Secret iCalendar feed URLs: create, list, revoke, and render by token (SCHED-06).

A feed is a user's own shifts across every schedule, or one schedule's final shifts. The URL
carries a random 256-bit token; only its SHA-256 is stored, so a database leak yields no
working URL. A revoked or unknown token is a plain 404 (no hint which it was). A feed covers
the last 31 days and the next 62 (one 93-day computation).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from backend.audit import service as audit
from backend.core import clock
from backend.core.actor import Actor, require_authenticated
from backend.core.db import unit_of_work
from backend.core.errors import PermissionDenied, ValidationFailed
from backend.core.secrets import new_token, sha256_hex
from backend.schedules import queries
from backend.schedules.errors import FeedNotFound
from backend.schedules.ical import FeedEvent, render
from backend.schedules.models import CalendarFeed, Schedule
from backend.schedules.oncall import engine
from backend.schedules.schemas import FeedCreated, FeedOut
from backend.schedules.service import load

PAST = timedelta(days=31)
FUTURE = timedelta(days=62)
FEED_PATH = "/api/calendar/{token}.ics"


def create_feed(actor: Actor, schedule_id: int | None = None) -> FeedCreated:
    """A new secret feed URL for the acting user: their shifts, or one schedule's.

    Raises:
        Unauthenticated, ValidationFailed (not acting as a user), ScheduleNotFound.
    """
    require_authenticated(actor)
    if actor.user_id is None:
        raise ValidationFailed("Calendar feeds belong to a user; sign in to create one.")
    token = new_token()
    with unit_of_work() as uow:
        if schedule_id is not None:
            load(uow.session, schedule_id)
        feed = CalendarFeed(
            token_hash=sha256_hex(token), user_id=actor.user_id, schedule_id=schedule_id
        )
        uow.session.add(feed)
        uow.session.flush()
        assert feed.id is not None
        audit.record(
            uow,
            actor,
            "schedules.feed.created",
            target_type="calendar_feed",
            target_id=feed.id,
            diff={"schedule_id": schedule_id},
        )
        return FeedCreated(
            id=feed.id,
            schedule_id=schedule_id,
            token=token,
            path=FEED_PATH.format(token=token),
        )


def revoke_feed(actor: Actor, feed_id: int) -> None:
    """Revoke a feed: its URL stops working at once (owner or platform admin).

    Raises:
        Unauthenticated, FeedNotFound, PermissionDenied.
    """
    require_authenticated(actor)
    with unit_of_work() as uow:
        feed = uow.session.get(CalendarFeed, feed_id)
        if feed is None:
            raise FeedNotFound(f"Calendar feed {feed_id} does not exist.")
        if feed.user_id != actor.user_id and not actor.is_platform_admin:
            raise PermissionDenied("Only the owner of a calendar feed can revoke it.")
        if feed.revoked_at is None:
            feed.revoked_at = clock.now()
            uow.session.add(feed)
            audit.record(
                uow,
                actor,
                "schedules.feed.revoked",
                target_type="calendar_feed",
                target_id=feed_id,
                diff={"schedule_id": feed.schedule_id},
            )


def list_feeds(actor: Actor) -> list[FeedOut]:
    """The acting user's feeds (tokens are never shown again)."""
    require_authenticated(actor)
    with unit_of_work() as uow:
        return [
            FeedOut.model_validate(f, from_attributes=True)
            for f in queries.feeds_of(uow.session, actor.user_id or -1)
        ]


def render_feed(token: str) -> bytes:
    """The iCalendar body behind a feed token. No other authentication: the token is it.

    Raises:
        FeedNotFound: unknown or revoked token.
    """
    now = clock.now()
    with unit_of_work() as uow:
        feed = queries.feed_by_hash(uow.session, sha256_hex(token))
        if feed is None or feed.revoked_at is not None:
            raise FeedNotFound("No such calendar feed.")
        feed.last_used_at = now
        uow.session.add(feed)
        if feed.schedule_id is not None:
            schedule = load(uow.session, feed.schedule_id)
            events = feed_events(uow.session, [schedule], now, None)
            name = f"On call: {schedule.name}"
        else:
            events = feed_events(uow.session, queries.schedules(uow.session), now, feed.user_id)
            name = "My on-call shifts"
        return render(name, events, stamp=now)


def feed_events(
    session: Session, schedules: list[Schedule], now: datetime, user_id: int | None
) -> list[FeedEvent]:
    """Final shifts of ``schedules`` around ``now``, only ``user_id``'s when given."""
    start, end = now - PAST, now + FUTURE
    events: list[FeedEvent] = []
    for schedule in schedules:
        assert schedule.id is not None
        for shift in engine(session, schedule, start, end).final(start, end):
            if user_id is None or shift.user_id == user_id:
                events.append(
                    FeedEvent(schedule.id, schedule.name, shift.user_id, "", shift.start, shift.end)
                )
    names = queries.user_names(session, (e.user_id for e in events))
    return [
        FeedEvent(
            e.schedule_id,
            e.schedule_name,
            e.user_id,
            names.get(e.user_id, f"user {e.user_id}"),
            e.start,
            e.end,
        )
        for e in events
    ]
