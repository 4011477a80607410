"""Writing and reading the incident timeline (INC-02), and rendering markdown notes.

Every service that changes an incident adds its line here, in the same transaction, so the
timeline is exactly what happened, in commit order (ids are ordered; ``at`` is for people).

Notes: the markdown source is stored as written and rendered once, on write, to HTML that
``nh3`` sanitises with a minimal allow-list (no raw HTML passes: markdown-it runs with HTML
disabled, and nh3 strips anything else, including ``javascript:`` links). Both are kept in the
event's data (``markdown`` and ``html``); the UI shows ``html`` and edits ``markdown``.
"""

from __future__ import annotations

from typing import Any

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import insert
from sqlmodel import Session, col, select

from backend.core import clock
from backend.core.actor import Actor
from backend.incidents.models import IncidentEvent, IncidentEventKind
from backend.incidents.schemas import TimelineEntry

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
_EVENTS = IncidentEvent.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
# Built once (ADR 0012).
_INSERT_EVENT = insert(_EVENTS)
# Several lines: with RETURNING, SQLAlchemy sends one INSERT … VALUES (…), (…) ("insertmanyvalues");
# without, psycopg's executemany enters pipeline mode, which cost more CPU than the two or three
# lines of an escalation step (~6 % of the workers' samples at 200 alerts/s, py-spy).
_INSERT_EVENTS = insert(_EVENTS).returning(_EVENTS.c.id)
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False})


def render_note(markdown: str) -> str:
    """Sanitised HTML for a markdown note."""
    return nh3.clean(
        _markdown.render(markdown),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def line(
    incident_id: int,
    kind: IncidentEventKind,
    summary: str,
    *,
    actor: Actor | None = None,
    actor_label: str = "",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One timeline line, to write with :func:`record_lines`."""
    return {
        "incident_id": incident_id,
        "at": clock.now(),
        "kind": kind,
        "actor_label": (actor.label if actor else actor_label)[:320],
        "actor_user_id": actor.user_id if actor else None,
        "summary": summary[:500],
        "data": data or {},
    }


def record_lines(session: Session, lines: list[dict[str, Any]]) -> None:
    """Write timeline lines in the current transaction with one statement, in list order.

    Core inserts, not objects added to the session: the escalation step and each delivery
    write lines, and an ORM object with its flush costs several times the CPU of the
    statement (``bench/paging_cpu.py``)."""
    if len(lines) == 1:
        session.execute(_INSERT_EVENT, lines[0])
    elif lines:
        session.execute(_INSERT_EVENTS, lines)


def record(
    session: Session,
    incident_id: int,
    kind: IncidentEventKind,
    summary: str,
    *,
    actor: Actor | None = None,
    actor_label: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """Add one timeline line to the current transaction (written at once: lines keep the
    order of the calls)."""
    entry = line(incident_id, kind, summary, actor=actor, actor_label=actor_label, data=data)
    session.execute(_INSERT_EVENT, entry)


def entries(session: Session, incident_id: int, *, limit: int = 1000) -> list[TimelineEntry]:
    """The timeline, oldest first (at most ``limit`` lines)."""
    rows = session.exec(
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident_id)
        .order_by(col(IncidentEvent.id))
        .limit(limit)
    ).all()
    return [
        TimelineEntry(
            id=row.id or 0,
            at=row.at,
            kind=row.kind,
            actor_label=row.actor_label,
            summary=row.summary,
            data=row.data,
        )
        for row in rows
    ]
