"""Server-side sessions: creation, validation with sliding expiry, and revocation.

The browser holds a random token in an HttpOnly cookie; we keep only its SHA-256.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from backend.audit import service as audit
from backend.audit.models import Severity
from backend.core import clock
from backend.core.actor import Actor, ActorKind, PlatformRole
from backend.core.db import UnitOfWork, unit_of_work
from backend.core.events import DomainEvent, get_bus
from backend.core.secrets import new_token, sha256_hex
from backend.core.settings import get_settings
from backend.identity import queries
from backend.identity.errors import SessionExpired
from backend.identity.models import User, UserSession

# Writing last_seen_at on every request would turn every read into a write.
TOUCH_INTERVAL = timedelta(minutes=1)


def open_session(
    uow: UnitOfWork, user: User, *, method: str, ip: str | None, user_agent: str | None
) -> str:
    """Create a session for ``user`` inside ``uow``; returns the raw token (shown once)."""
    assert user.id is not None
    auth = get_settings().auth
    token = new_token(32)
    now = clock.now()
    uow.session.add(
        UserSession(
            token_hash=sha256_hex(token),
            user_id=user.id,
            auth_method=method,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=auth.session_ttl_hours),
            ip=ip,
            user_agent=(user_agent or "")[:500] or None,
        )
    )
    user.last_login_at = now
    uow.session.add(user)
    return token


def actor_for(user: User, *, ip: str | None = None, user_agent: str | None = None) -> Actor:
    return Actor(
        kind=ActorKind.USER,
        id=user.id,
        label=user.email,
        platform_role=PlatformRole(user.platform_role),
        ip=ip,
        user_agent=user_agent,
    )


def resolve(token: str, *, ip: str | None = None, user_agent: str | None = None) -> Actor:
    """The signed-in user behind a session token; slides the expiry on activity near its end.

    Raises:
        SessionExpired: unknown, revoked or expired token, or a deactivated user.
    """
    if not token:
        raise SessionExpired
    with unit_of_work() as uow:
        record = queries.session_by_hash(uow.session, sha256_hex(token))
        user = _check(uow.session, record)
        assert record is not None
        _touch(uow, record)
        return actor_for(user, ip=ip, user_agent=user_agent)


def _check(session: Session, record: UserSession | None) -> User:
    now = clock.now()
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        raise SessionExpired
    user = queries.user_by_id(session, record.user_id)
    if user is None or not user.is_active:
        raise SessionExpired
    return user


def _touch(uow: UnitOfWork, record: UserSession) -> None:
    auth = get_settings().auth
    now = clock.now()
    changed = False
    if now - record.last_seen_at >= TOUCH_INTERVAL:
        record.last_seen_at = now
        changed = True
    if record.expires_at - now <= timedelta(minutes=auth.session_slide_when_left_minutes):
        record.expires_at = now + timedelta(hours=auth.session_ttl_hours)
        changed = True
    if changed:
        uow.session.add(record)


def is_valid(token: str) -> bool:
    """A read-only check used by long-lived websocket connections to re-validate."""
    if not token:
        return False
    with unit_of_work() as uow:
        try:
            _check(uow.session, queries.session_by_hash(uow.session, sha256_hex(token)))
        except SessionExpired:
            return False
    return True


def close_session(token: str, actor: Actor) -> None:
    """Log out: revoke the session behind ``token`` (unknown tokens are ignored)."""
    with unit_of_work() as uow:
        record = queries.session_by_hash(uow.session, sha256_hex(token))
        if record is None or record.revoked_at is not None:
            return
        record.revoked_at = clock.now()
        uow.session.add(record)
        audit.record(
            uow,
            actor,
            "identity.session.logged_out",
            target_type="user",
            target_id=record.user_id,
            target_label=actor.label,
            severity=Severity.LOW,
        )


def revoke_all(uow: UnitOfWork, actor: Actor, user: User, *, reason: str) -> int:
    """Revoke every open session of ``user`` inside ``uow``; returns how many were open."""
    assert user.id is not None
    now = clock.now()
    open_sessions = queries.active_sessions(uow.session, user.id)
    for record in open_sessions:
        record.revoked_at = now
        uow.session.add(record)
    audit.record(
        uow,
        actor,
        "identity.session.revoked_all",
        target_type="user",
        target_id=user.id,
        target_label=user.email,
        severity=Severity.HIGH,
        diff={"reason": reason, "sessions": len(open_sessions)},
    )
    event = DomainEvent(
        name="identity.sessions.revoked",
        payload={"user_id": user.id},
        topics=(f"user:{user.id}",),
        actor_label=actor.label,
    )
    uow.after_commit(lambda: get_bus().publish(event))
    return len(open_sessions)


def purge_expired(older_than: timedelta = timedelta(days=30)) -> int:
    """Delete sessions that expired or were revoked more than ``older_than`` ago."""
    cutoff = clock.now() - older_than
    with unit_of_work() as uow:
        result = uow.session.exec(
            delete(UserSession).where(
                (col(UserSession.expires_at) < cutoff) | (col(UserSession.revoked_at) < cutoff)
            )
        )
        return int(result.rowcount or 0)
