"""E-mail magic links (NOTIF-05): acknowledge or resolve an incident from the message.

* ``issue_link`` (``issue_links`` for several) makes a single-use link for one (user,
  incident, action), valid 15 minutes; the token is random (``new_token``), only its SHA-256
  is stored.
* Opening the link (GET) only shows a confirmation page (``peek``): mail scanners and link
  previews fetch GET, and must not act. The button on that page POSTs, which ``burn``s the
  link with a compare-and-set (unused and unexpired → used); ``actions.use_magic_link`` then
  runs the incident command as that user, so whoever clicks twice (or a scanner and a person
  racing) acts once. (This module stays free of the incident commands: the dispatcher, which
  the escalation engine imports, issues links with it.)
* A used, expired or unknown token changes nothing and says so.

The link is burnt before the command runs: if the command is refused (the user left the team)
the link stays used, which is the safe side for a bearer token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from backend.core import clock
from backend.core.db import unit_of_work
from backend.core.secrets import new_token, sha256_hex
from backend.incidents.models import Incident
from backend.notifications.action_models import Action, ActionLink

LINK_TTL = timedelta(minutes=15)
LINK_PATH = "/api/v1/actions/email"
_L = ActionLink.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
_INSERT = insert(_L)


class LinkState(StrEnum):
    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class LinkView:
    state: LinkState
    action: Action | None = None
    incident_id: int | None = None
    incident_title: str = ""
    expires_at: datetime | None = None


def issue_link(
    session: Session, *, user_id: int, incident_id: int, action: Action, base_url: str
) -> str:
    """Store a new link in the caller's transaction; returns its URL (the only copy of the
    token)."""
    links = issue_links(
        session, user_id=user_id, incident_id=incident_id, actions=(action,), base_url=base_url
    )
    return links[action]


def issue_links(
    session: Session,
    *,
    user_id: int,
    incident_id: int,
    actions: tuple[Action, ...],
    base_url: str,
) -> dict[Action, str]:
    """One new link per action, stored with one statement in the caller's transaction (every
    page e-mail carries two); returns each one's URL (the only copy of its token)."""
    tokens = new_tokens(actions)
    session.execute(
        _INSERT,
        [
            {"user_id": user_id, "incident_id": incident_id, **row}
            for row in link_rows(tokens, clock.now())
        ],
    )
    return link_urls(tokens, base_url)


def new_tokens(actions: tuple[Action, ...]) -> dict[Action, str]:
    """A fresh random token per action (each the only copy of its link's secret)."""
    return {action: new_token(32) for action in actions}


def link_rows(tokens: dict[Action, str], now: datetime) -> list[dict[str, object]]:
    """What is stored of each token's link, but its user and incident: the hash, never the
    token (the delivery's one-statement claim adds those two itself, delivery_statements.py)."""
    return [
        {
            "token_hash": sha256_hex(token),
            "action": action.value,
            "expires_at": now + LINK_TTL,
            "created_at": now,
        }
        for action, token in tokens.items()
    ]


def link_urls(tokens: dict[Action, str], base_url: str) -> dict[Action, str]:
    root = base_url.rstrip("/")
    return {action: f"{root}{LINK_PATH}/{token}" for action, token in tokens.items()}


def _row(session: Session, token: str) -> ActionLink | None:
    if not token or len(token) > 200:
        return None
    return session.scalars(
        select(ActionLink).where(col(ActionLink.token_hash) == sha256_hex(token))
    ).first()


def _state(row: ActionLink | None, now: datetime) -> LinkState:
    if row is None:
        return LinkState.UNKNOWN
    if row.used_at is not None:
        return LinkState.USED
    if row.expires_at <= now:
        return LinkState.EXPIRED
    return LinkState.VALID


def peek(token: str) -> LinkView:
    """What the link would do, changing nothing (the confirmation page)."""
    with unit_of_work() as uow:
        row = _row(uow.session, token)
        state = _state(row, clock.now())
        if row is None or state is not LinkState.VALID:
            return LinkView(state)
        incident = uow.session.get(Incident, row.incident_id)
        return LinkView(
            state,
            Action(row.action),
            row.incident_id,
            incident.title if incident else "",
            row.expires_at,
        )


@dataclass(frozen=True)
class LinkTarget:
    user_id: int
    incident_id: int
    action: Action


def burn(token: str) -> tuple[LinkState, LinkTarget | None]:
    """Mark the link used with a compare-and-set (unused and unexpired → used) and commit:
    (VALID, what it is for) for the one caller that won, else (why not, None). The command
    itself is run by ``actions.use_magic_link``."""
    now = clock.now()
    with unit_of_work() as uow:
        row = _row(uow.session, token)
        state = _state(row, now)
        if row is None or state is not LinkState.VALID:
            return state, None
        burnt = uow.session.execute(
            update(_L)
            .where(_L.c.id == row.id, _L.c.used_at.is_(None), _L.c.expires_at > now)
            .values(used_at=now)
        ).rowcount  # type: ignore[attr-defined]  # CursorResult
        if not burnt:
            return LinkState.USED, None  # another click won the race
        return LinkState.VALID, LinkTarget(row.user_id, row.incident_id, Action(row.action))
