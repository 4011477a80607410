"""A delivery's two writes on PostgreSQL, each ONE statement (as ADR 0010 did for ingest).

``dispatch.deliver`` reads a notification with its page's facts, claims it, stores the e-mail's
magic links, and after the provider answered, records the attempt, the outcome and the
timeline line. Through the ORM's unit of work that was about a dozen round trips (pre-ping,
BEGIN, each statement, COMMIT) and most of a delivery's CPU in the workers and in PostgreSQL
(docs/benchmarks.md, 2026-12-04). Here, on PostgreSQL:

* ``claim``: read + compare-and-set + the e-mail's links, one statement in driver autocommit.
  It claims exactly when the Python path would (queued and due, or sending past its lease; not
  a page whose incident is no longer OPEN or whose method was removed; the attempt count
  unchanged since the read). Whatever it did not claim, the caller decides from the facts it
  returns, as before (not due, stale, or skipped through the ORM path).
* ``record_done``: the attempt row, the sent/delivered outcome (only while still claimed by
  this attempt) and the "Paged Ann by SMS." line, one statement. Retries and failures keep
  the ORM path (they enqueue, fall back to other channels, page the admins).

Both are safe to repeat (``call_atomically`` sends a statement once more on a fresh
connection if the first died under it): a repeated claim finds the lease held and claims
nothing (the sweep re-sends once the lease ends, as after a crashed worker); a repeated record
finds the attempt stored and the row no longer sending. SQLite keeps the ORM path; the
behaviour tests run on both (tests/integration/test_notifications_on_pg.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.engine import Dialect

from backend.catalog.models import Service
from backend.core.db import call_atomically, get_engine
from backend.escalation.models import PageRequest
from backend.identity.models import User
from backend.incidents.models import Incident, IncidentStatus
from backend.notifications import magic_links
from backend.notifications.action_models import Action
from backend.notifications.models import (
    ChannelKind,
    Notification,
    NotificationPurpose,
    NotificationStatus,
)

_N = Notification.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
_INC = Incident.__table__  # type: ignore[attr-defined]
_SVC = Service.__table__  # type: ignore[attr-defined]
_PR = PageRequest.__table__  # type: ignore[attr-defined]
_USR = User.__table__  # type: ignore[attr-defined]

# Everything one delivery reads, in one statement: the notification, and for a page its
# incident, page request, service and recipient's name (six ORM ``Session.get`` calls before,
# most of a delivery's CPU). Read alone on SQLite (``dispatch.DeliveryFacts.read``), and as the
# claim's first part on PostgreSQL (below), so both paths read the same facts.
FACTS = (
    select(
        *_N.c,
        _INC.c.status.label("incident_status"),
        _INC.c.title.label("incident_title"),
        _INC.c.severity.label("incident_severity"),
        _INC.c.priority.label("incident_priority"),
        _SVC.c.name.label("service_name"),
        _PR.c.level.label("page_level"),
        _PR.c.repeat.label("page_repeat"),
        _USR.c.name.label("user_name"),
    )
    .select_from(
        _N.outerjoin(_INC, _INC.c.id == _N.c.incident_id)
        .outerjoin(_SVC, _SVC.c.id == _INC.c.service_id)
        .outerjoin(_PR, _PR.c.id == _N.c.page_request_id)
        .outerjoin(_USR, _USR.c.id == _N.c.user_id)
    )
    .where(_N.c.id == bindparam("notification_id"))
)
_QUEUED, _SENDING = NotificationStatus.QUEUED.value, NotificationStatus.SENDING.value
_PAGE, _CRITICAL = NotificationPurpose.PAGE.value, NotificationPurpose.CRITICAL.value
_OPEN, _EMAIL = IncidentStatus.OPEN.value, ChannelKind.EMAIL.value
_ACK, _RESOLVE = Action.ACKNOWLEDGE, Action.RESOLVE

# The claim's SQL renders FACTS for PostgreSQL with psycopg's ``%(name)s`` placeholders.
_PG = psycopg_dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it unannotated
# Values in the SQL are our enums' constants; everything from outside is a parameter.
CLAIM_SQL = f"""
WITH f AS (
    {FACTS.compile(dialect=_PG)}
),
c AS (
    UPDATE notification n
    SET status = '{_SENDING}', attempts = n.attempts + 1, next_attempt_at = %(lease_end)s,
        resend_after = NULL
    FROM f
    WHERE n.id = f.id AND n.attempts = f.attempts
      AND ((n.status = '{_QUEUED}' AND n.next_attempt_at <= %(due_by)s)
           OR (n.status = '{_SENDING}' AND n.next_attempt_at <= %(now)s))
      AND NOT (f.purpose IN ('{_PAGE}', '{_CRITICAL}')
               AND (f.contact_method_id IS NULL OR f.incident_status IS DISTINCT FROM '{_OPEN}'))
    RETURNING n.id
),
links AS (
    INSERT INTO action_link (token_hash, user_id, incident_id, action, expires_at, created_at)
    SELECT v.token_hash, f.user_id, f.incident_id, v.action, %(expires_at)s, %(now)s
    FROM f JOIN c ON c.id = f.id
    CROSS JOIN (VALUES (%(ack_hash)s, '{_ACK.value}'), (%(resolve_hash)s, '{_RESOLVE.value}'))
        AS v (token_hash, action)
    WHERE f.channel = '{_EMAIL}' AND f.purpose = '{_PAGE}'
      AND f.incident_title IS NOT NULL AND f.page_level IS NOT NULL
)
SELECT f.*, EXISTS (SELECT 1 FROM c) AS claimed FROM f
"""  # noqa: S608  # no user text in the SQL: table, column and enum names only

RECORD_DONE_SQL = f"""
WITH attempt AS (
    INSERT INTO delivery_attempt (notification_id, attempt, provider, status, duration_ms,
                                  response, at)
    VALUES (%(id)s, %(attempt)s, %(provider)s, %(status)s, %(duration_ms)s, %(response)s,
            %(now)s)
    ON CONFLICT (notification_id, attempt) DO NOTHING
),
finished AS (
    UPDATE notification
    SET status = %(status)s, finished_at = %(now)s, last_error = '', provider = %(provider)s
    WHERE id = %(id)s AND status = '{_SENDING}' AND attempts = %(attempt)s
    RETURNING incident_id
),
line AS (
    INSERT INTO incident_event (incident_id, at, kind, actor_label, actor_user_id, summary, data)
    SELECT finished.incident_id, %(line_at)s, %(line_kind)s, %(line_actor)s, NULL,
           %(line_summary)s, %(line_data)s::json
    FROM finished WHERE finished.incident_id IS NOT NULL AND %(with_line)s
)
SELECT count(*) FROM finished
"""  # noqa: S608  # no user text in the SQL


def claim(
    notification_id: int,
    *,
    now: datetime,
    due_by: datetime,
    lease_end: datetime,
    base_url: str,
) -> tuple[dict[str, Any], bool, dict[Action, str]] | None:
    """Read and (if it may be) claim one notification; its facts (as the ORM path reads them),
    whether it was claimed, and the e-mail's link URLs (stored only when claimed as a page
    e-mail). None: no such notification."""
    # Tokens for every delivery (two random strings): whether this one is a page e-mail is
    # only known inside the statement, which stores their hashes only then.
    tokens = magic_links.new_tokens((_ACK, _RESOLVE))
    ack, resolve = magic_links.link_rows(tokens, now)
    rows = call_atomically(
        CLAIM_SQL,
        {
            "notification_id": notification_id,
            "now": now,
            "due_by": due_by,
            "lease_end": lease_end,
            "expires_at": ack["expires_at"],
            "ack_hash": ack["token_hash"],
            "resolve_hash": resolve["token_hash"],
        },
    )
    if not rows:
        return None
    *values, claimed = rows[0]
    facts = {
        name: value if convert is None else convert(value)
        for (name, convert), value in zip(_readers(get_engine().dialect), values, strict=True)
    }
    return facts, bool(claimed), magic_links.link_urls(tokens, base_url)


def record_done(
    *,
    notification_id: int,
    attempt: int,
    provider: str,
    status: str,
    duration_ms: int,
    response: str,
    now: datetime,
    line: dict[str, Any] | None,
) -> bool:
    """Store a successful attempt and its outcome; False if the claim was no longer this
    attempt's (a lease ran out and another worker took over; the attempt row is kept)."""
    rows = call_atomically(
        RECORD_DONE_SQL,
        {
            "id": notification_id,
            "attempt": attempt,
            "provider": provider,
            "status": status,
            "duration_ms": duration_ms,
            "response": response,
            "now": now,
            "with_line": line is not None,
            "line_at": line["at"] if line else now,
            "line_kind": str(line["kind"]) if line else "",
            "line_actor": line["actor_label"] if line else "",
            "line_summary": line["summary"] if line else "",
            "line_data": json.dumps(line["data"] if line else {}),
        },
    )
    return bool(rows and rows[0][0])


@cache
def _readers(dialect: Dialect) -> list[tuple[str, Callable[[Any], Any] | None]]:
    """Each fact's name and what its column type does to a raw value on a read (the ORM
    path's conversions: enums, UTC datetimes), once per dialect."""
    return [(c.name, c.type.result_processor(dialect, None)) for c in FACTS.selected_columns]
