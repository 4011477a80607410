"""When a sweeper may re-send a due row again (the escalation and notification sweepers).

A sweeper re-sends rows past due by more than its grace, because their message may be lost
(Redis flushed, a worker killed). Under a backlog the message is usually just still queued, and
re-sending it every sweep filled the queue with duplicates that made the backlog worse. So a
re-sent row is stamped with the time before which it is not re-sent again. The back-off is as
long as the row is already late (at least the grace, at most ``MAX_BACKOFF``): a row re-sent at
10 s late is re-sent again at 20 s, 40 s, 80 s, ..., then every two minutes, so a truly lost
re-send is still re-sent, while a backlog gets a few duplicates per row instead of one a sweep.
"""

from __future__ import annotations

from datetime import datetime, timedelta

MAX_BACKOFF = timedelta(minutes=2)


def resend_after(now: datetime, due: datetime, grace: timedelta) -> datetime:
    """The earliest time a row due at ``due`` and re-sent at ``now`` may be re-sent again."""
    return now + min(MAX_BACKOFF, max(grace, now - due))
