"""The identity provider's event hook (USER-01): revoke sessions, deactivate, reactivate.

The provider (or a small relay in front of it) signs each request with the shared secret
``ONCALL_AUTH__IDP_HOOK_SECRET``::

    X-OnCall-Timestamp: <unix seconds>
    X-OnCall-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>

Signatures are compared in constant time and requests outside the replay window (older than
five minutes or more than a minute in the future) are refused. Every event is idempotent, so a
retried delivery within the window does no harm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session

from backend.core import clock
from backend.core.actor import Actor, ActorKind, PlatformRole
from backend.core.db import unit_of_work
from backend.core.secrets import verify_signature
from backend.core.settings import get_settings
from backend.identity import oidc, queries, sessions
from backend.identity import service as users
from backend.identity.errors import IdpHookDisabled, InvalidSignature, UserNotFound
from backend.identity.models import User

MAX_AGE_SECONDS = 300
MAX_FUTURE_SECONDS = 60
MAX_BODY_BYTES = 64 * 1024

EventName = Literal["user.sessions.revoke", "user.deactivated", "user.reactivated"]


class IdpEvent(BaseModel):
    """One event. ``subject`` (the provider's ``sub``) or ``email`` names the user; when both
    are given the subject is tried first."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    event: EventName
    subject: str | None = Field(default=None, min_length=1, max_length=255)
    email: str | None = Field(default=None, min_length=3, max_length=320)

    @model_validator(mode="after")
    def _names_a_user(self) -> IdpEvent:
        if not self.subject and not self.email:
            msg = "give the user's subject or email"
            raise ValueError(msg)
        return self


@dataclass(frozen=True)
class IdpEventResult:
    user_id: int
    sessions_revoked: int
    is_active: bool


def hook_actor(ip: str | None, user_agent: str | None) -> Actor:
    return Actor(
        kind=ActorKind.SYSTEM,
        label="idp_hook",
        platform_role=PlatformRole.PLATFORM_ADMIN,
        ip=ip,
        user_agent=user_agent,
    )


def authenticate(
    timestamp: str | None, signature: str | None, body: bytes, *, now: datetime | None = None
) -> None:
    """Check the hook's signature headers over the exact raw ``body``.

    Raises:
        IdpHookDisabled: no secret is configured (the hook does not exist).
        InvalidSignature: a header is missing or malformed, the timestamp is outside the
            replay window, or the signature does not match.
    """
    secret = get_settings().auth.idp_hook_secret.get_secret_value()
    if not secret:
        raise IdpHookDisabled("The identity provider event hook is not configured.")
    if not timestamp or not signature:
        raise InvalidSignature("X-OnCall-Timestamp and X-OnCall-Signature are required.")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise InvalidSignature("X-OnCall-Timestamp must be a Unix time in seconds.")
    age = int((now or clock.now()).timestamp()) - int(timestamp)
    if age > MAX_AGE_SECONDS or age < -MAX_FUTURE_SECONDS:
        raise InvalidSignature("X-OnCall-Timestamp is outside the allowed window.")
    if not verify_signature(secret, timestamp.encode() + b"." + body, signature):
        raise InvalidSignature("The signature does not match.")


def handle(event: IdpEvent, actor: Actor) -> IdpEventResult:
    """Apply one event to the user it names; audited at HIGH in the same transaction.

    Raises:
        UserNotFound: no user matches the subject or e-mail.
        PermissionDenied: the actor is not the system or a platform admin.
    """
    with unit_of_work() as uow:
        user = _find(uow.session, event)
        assert user.id is not None
        revoked = 0
        if event.event == "user.sessions.revoke":
            revoked = sessions.revoke_all(uow, actor, user, reason="idp_hook")
        elif event.event == "user.deactivated":
            revoked = users.deactivate_user(uow, actor, user, reason="idp_hook")
        else:
            users.reactivate_user(uow, actor, user, reason="idp_hook")
        return IdpEventResult(user_id=user.id, sessions_revoked=revoked, is_active=user.is_active)


def _find(session: Session, event: IdpEvent) -> User:
    user = None
    if event.subject:
        issuer = oidc.canonical_issuer(get_settings().sso.issuer)
        user = queries.user_by_subject(session, issuer, event.subject)
    if user is None and event.email:
        user = queries.user_by_email(session, event.email)
    if user is None:
        raise UserNotFound("No user matches that subject or e-mail.")
    return user
