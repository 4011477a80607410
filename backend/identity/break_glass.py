"""Break-glass local accounts: for signing in when the IdP is down.

Created only from the CLI. Limits are kept in the database (``login_attempt``), keyed by the
e-mail as typed, so they hold across processes and reveal nothing about which accounts exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete
from sqlmodel import Session, col, select

from backend.audit import service as audit
from backend.audit.models import Severity
from backend.core import clock
from backend.core.actor import Actor, ActorKind
from backend.core.db import unit_of_work
from backend.core.errors import PermissionDenied, ValidationFailed
from backend.core.settings import AuthSettings, get_settings
from backend.core.validation import parse
from backend.identity import queries, sessions
from backend.identity.errors import InvalidCredentials, TooManyAttempts
from backend.identity.models import BreakGlassCredential, LoginAttempt, User
from backend.identity.passwords import generate_password, hash_password, verify_password
from backend.identity.schemas import UserCreate


@dataclass(frozen=True)
class NewBreakGlassAccount:
    user_id: int
    email: str
    password: str  # shown once


@dataclass(frozen=True)
class LoginResult:
    token: str
    user_id: int


def create_account(actor: Actor, email: str, name: str) -> NewBreakGlassAccount:
    """Create (or reset) the break-glass password of a user; CLI only.

    Raises:
        PermissionDenied: called by anything but the CLI.
        ValidationFailed: bad e-mail or name.
    """
    if actor.kind is not ActorKind.CLI:
        raise PermissionDenied("Break-glass accounts can only be created from the CLI.")
    data = parse(UserCreate, {"email": email, "name": name})
    password = generate_password()
    with unit_of_work() as uow:
        user = queries.user_by_email(uow.session, data.email)
        if user is None:
            user = User(email=data.email, name=data.name)
            uow.session.add(user)
            uow.session.flush()
        assert user.id is not None
        credential = uow.session.get(BreakGlassCredential, user.id)
        if credential is None:
            credential = BreakGlassCredential(user_id=user.id, password_hash="")
        credential.password_hash = hash_password(password)
        credential.created_at = clock.now()
        uow.session.add(credential)
        audit.record(
            uow,
            actor,
            "identity.break_glass.created",
            target_type="user",
            target_id=user.id,
            target_label=user.email,
            severity=Severity.HIGH,
        )
        return NewBreakGlassAccount(user_id=user.id, email=user.email, password=password)


def login(email: str, password: str, *, ip: str, user_agent: str | None) -> LoginResult:
    """Check a break-glass password and open a session. Every use is audited at HIGH.

    Raises:
        ValidationFailed: empty e-mail or password.
        TooManyAttempts: over the per-account-and-IP limit, or the account is locked out.
        InvalidCredentials: unknown account or wrong password (one message for both).
    """
    typed = email.strip().lower()[:320]
    if not typed or not password:
        raise ValidationFailed("E-mail and password are required.")
    settings = get_settings().auth
    anonymous = Actor(kind=ActorKind.ANONYMOUS, label=typed, ip=ip, user_agent=user_agent)
    outcome: Exception | LoginResult
    with unit_of_work() as uow:
        blocked = _blocked_for(uow.session, typed, ip, settings)
        if blocked is not None:
            outcome = TooManyAttempts(
                "Too many sign-in attempts. Try again later.", retry_after=blocked
            )
            audit.record(
                uow,
                anonymous,
                "identity.break_glass.login_blocked",
                target_type="user",
                target_label=typed,
                severity=Severity.HIGH,
                diff={"retry_after": blocked},
            )
        else:
            user = queries.user_by_email(uow.session, typed)
            credential = (
                uow.session.get(BreakGlassCredential, user.id)
                if user is not None and user.is_active
                else None
            )
            ok = verify_password(credential.password_hash if credential else None, password)
            uow.session.add(LoginAttempt(email=typed, ip=ip, success=ok))
            if ok and user is not None:
                token = sessions.open_session(
                    uow, user, method="break_glass", ip=ip, user_agent=user_agent
                )
                assert user.id is not None
                outcome = LoginResult(token=token, user_id=user.id)
                audit.record(
                    uow,
                    sessions.actor_for(user, ip=ip, user_agent=user_agent),
                    "identity.break_glass.login_succeeded",
                    target_type="user",
                    target_id=user.id,
                    target_label=user.email,
                    severity=Severity.HIGH,
                )
            else:
                outcome = InvalidCredentials("Invalid e-mail or password.")
                audit.record(
                    uow,
                    anonymous,
                    "identity.break_glass.login_failed",
                    target_type="user",
                    target_label=typed,
                    severity=Severity.HIGH,
                )
    # The attempt and its audit row are committed before a failure is reported.
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _blocked_for(session: Session, email: str, ip: str, settings: AuthSettings) -> int | None:
    """Seconds until another attempt is allowed, or None when it is allowed now."""
    now = clock.now()
    lock_window = timedelta(minutes=settings.break_glass_lockout_minutes)
    failures = _times(
        session,
        and_(col(LoginAttempt.email) == email, col(LoginAttempt.success).is_(False)),
        now - lock_window,
    )
    waits: list[float] = []
    if len(failures) >= settings.break_glass_lockout_failures:
        # Locked until the oldest of the last N failures leaves the window.
        oldest = failures[-settings.break_glass_lockout_failures]
        waits.append((oldest + lock_window - now).total_seconds())
    attempt_window = timedelta(minutes=settings.break_glass_attempt_window_minutes)
    attempts = _times(
        session,
        and_(col(LoginAttempt.email) == email, col(LoginAttempt.ip) == ip),
        now - attempt_window,
    )
    if len(attempts) >= settings.break_glass_max_attempts:
        oldest = attempts[-settings.break_glass_max_attempts]
        waits.append((oldest + attempt_window - now).total_seconds())
    if not waits:
        return None
    return max(1, int(max(waits)) + 1)


def _times(session: Session, where: ColumnElement[bool], since: datetime) -> list[datetime]:
    stmt = (
        select(LoginAttempt.at)
        .where(where, col(LoginAttempt.at) > since)
        .order_by(col(LoginAttempt.at))
    )
    return [clock.as_utc(t) for t in session.exec(stmt)]


def purge_attempts(older_than: timedelta = timedelta(days=30)) -> int:
    """Delete old attempt rows (they only matter for the limit windows and forensics)."""
    with unit_of_work() as uow:
        result = uow.session.exec(
            delete(LoginAttempt).where(col(LoginAttempt.at) < clock.now() - older_than)
        )
        return int(result.rowcount or 0)
