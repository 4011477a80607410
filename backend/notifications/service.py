"""Contact methods (USER-03) and notification rules (USER-04): the user's own commands.

A user manages their own methods and rules; a platform admin may manage anyone's. Each new
method is verified with a 6-digit code sent through the normal delivery path (a
``Notification`` of purpose "verification"), stored as an HMAC under the secret key, valid
10 minutes and for 5 tries; only verified methods are ever paged.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlmodel import Session, col

from backend.audit import service as audit
from backend.audit.models import Severity
from backend.core import clock, secretbox
from backend.core.actor import Actor, require_authenticated
from backend.core.db import UnitOfWork, unit_of_work
from backend.core.errors import AlreadyExists, NotFound, PermissionDenied, ValidationFailed
from backend.core.settings import get_settings
from backend.identity.models import User
from backend.notifications import (
    dispatch,
    formatting,
    rules,
    teams_webhook,
    web_push_subscription,
)
from backend.notifications.masking import masked
from backend.notifications.models import (
    ChannelKind,
    ContactMethod,
    NotificationRule,
    QuietHours,
    Urgency,
)
from backend.notifications.schemas import (
    ContactMethodIn,
    ContactMethodOut,
    QuietHoursIn,
    RuleIn,
    RuleOut,
)

CODE_TTL = timedelta(minutes=10)
MAX_TRIES = 5
# E-mail addresses (RFC 5321), numbers, Slack ids; only browser subscriptions are longer.
MAX_ADDRESS = 320
_PHONE_PUNCTUATION = re.compile(r"[\s().-]")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
# Deliberately loose (the verification code proves the address): one @, a dotted domain.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def _address(body: ContactMethodIn) -> str:
    """The address as stored: trimmed; a browser subscription checked and made canonical.

    Raises:
        ValidationFailed: on ``address`` (too long, or not a usable PushSubscription).
    """
    address = body.address.strip()
    if body.kind is ChannelKind.WEB_PUSH:
        insecure = get_settings().notifications.web_push_allow_insecure_endpoints
        return web_push_subscription.parse(address, allow_insecure=insecure).address()
    if body.kind is ChannelKind.TEAMS:
        settings = get_settings().notifications
        address = teams_webhook.check_url(
            address,
            hosts=settings.teams_webhook_hosts,
            allow_insecure=settings.teams_allow_insecure_urls,
        )
    if len(address) > MAX_ADDRESS:
        raise ValidationFailed.field("address", f"at most {MAX_ADDRESS} characters")
    if body.kind in (ChannelKind.SMS, ChannelKind.VOICE):
        # Stored as E.164, the form Twilio and SNS take: "+1 (415) 555-0100" → "+14155550100".
        number = _PHONE_PUNCTUATION.sub("", address)
        if not _E164.fullmatch(number):
            raise ValidationFailed.field(
                "address", "a phone number in international form, e.g. +14155550100"
            )
        return number
    if body.kind is ChannelKind.EMAIL and not _EMAIL.fullmatch(address):
        raise ValidationFailed.field("address", "an e-mail address, e.g. ann@example.org")
    return address


def _audit(uow: UnitOfWork, actor: Actor, verb: str, user_id: int, diff: dict[str, object]) -> None:
    audit.record(
        uow,
        actor,
        f"notifications.{verb}",
        target_type="user",
        target_id=user_id,
        severity=Severity.LOW,
        diff=diff,
    )


def _authorize(actor: Actor, user_id: int) -> None:
    require_authenticated(actor)
    if actor.user_id != user_id and not actor.is_platform_admin:
        raise PermissionDenied("Only the user (or a platform admin) manages their notifications.")


def _code_hash(method_id: int, code: str) -> str:
    key = secretbox.current_key().encode()
    return hmac.new(key, f"{method_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _out(method: ContactMethod) -> ContactMethodOut:
    return ContactMethodOut(
        id=method.id or 0,
        user_id=method.user_id,
        kind=method.kind,
        # A Teams webhook URL is a credential: shown as its host only (ADR 0008).
        address=teams_webhook.mask(method.address)
        if method.kind is ChannelKind.TEAMS
        else method.address,
        label=method.label,
        verified=method.verified_at is not None,
        verified_at=method.verified_at,
        verification_pending=method.verification_hash is not None,
    )


def _method(
    session: Session, actor: Actor, method_id: int, owner_id: int | None = None
) -> ContactMethod:
    method = session.get(ContactMethod, method_id)
    # Addressed under a user (the API's /users/{id}/contact-methods/{method_id}): another
    # user's method is not found there, whoever may see it.
    if method is None or (owner_id is not None and method.user_id != owner_id):
        raise NotFound(f"Contact method {method_id} does not exist.")
    _authorize(actor, method.user_id)
    return method


def _issue_code(uow_session: Session, method: ContactMethod) -> str:
    assert method.id is not None
    code = f"{secrets.randbelow(1_000_000):06d}"
    method.verification_hash = _code_hash(method.id, code)
    method.verification_expires_at = clock.now() + CODE_TTL
    method.verification_tries = 0
    uow_session.add(method)
    return code


def list_contact_methods(actor: Actor, user_id: int) -> list[ContactMethodOut]:
    """A user's contact methods. Raises: Unauthenticated, PermissionDenied."""
    _authorize(actor, user_id)
    with unit_of_work() as uow:
        rows = uow.session.scalars(
            select(ContactMethod)
            .where(col(ContactMethod.user_id) == user_id)
            .order_by(col(ContactMethod.id))
        ).all()
        return [_out(m) for m in rows]


def add_contact_method(actor: Actor, user_id: int, body: ContactMethodIn) -> ContactMethodOut:
    """Add an unverified method and send it a verification code.

    Raises:
        Unauthenticated, PermissionDenied, NotFound (user), AlreadyExists, ValidationFailed.
    """
    _authorize(actor, user_id)
    address = _address(body)
    with unit_of_work() as uow:
        session = uow.session
        if session.get(User, user_id) is None:
            raise NotFound(f"User {user_id} does not exist.")
        taken = session.scalars(
            select(ContactMethod).where(
                col(ContactMethod.user_id) == user_id,
                col(ContactMethod.kind) == body.kind,
                col(ContactMethod.address) == address,
            )
        ).first()
        if taken is not None:
            raise AlreadyExists("This contact method already exists.")
        method = ContactMethod(user_id=user_id, kind=body.kind, address=address, label=body.label)
        session.add(method)
        session.flush()
        code = _issue_code(session, method)
        dispatch.queue_direct(
            uow, user_id=user_id, method=method, body=formatting.verification_text(code)
        )
        _audit(
            uow,
            actor,
            "contact_method.added",
            user_id,
            {"kind": str(body.kind), "address": masked(body.kind, address)},
        )
        return _out(method)


def resend_verification(
    actor: Actor, method_id: int, *, owner_id: int | None = None
) -> ContactMethodOut:
    """Send a fresh code (the old one stops working). Raises: NotFound, PermissionDenied."""
    with unit_of_work() as uow:
        method = _method(uow.session, actor, method_id, owner_id)
        code = _issue_code(uow.session, method)
        dispatch.queue_direct(
            uow, user_id=method.user_id, method=method, body=formatting.verification_text(code)
        )
        return _out(method)


def verify_contact_method(
    actor: Actor, method_id: int, code: str, *, owner_id: int | None = None
) -> ContactMethodOut:
    """Check the code; the method counts as verified from now on.

    Raises:
        NotFound, PermissionDenied, ValidationFailed (wrong, expired or used-up code).
    """
    with unit_of_work() as uow:
        method = _method(uow.session, actor, method_id, owner_id)
        if method.verified_at is not None:
            return _out(method)
        now = clock.now()
        expires = method.verification_expires_at
        if method.verification_hash is None or expires is None or expires <= now:
            raise ValidationFailed.field("code", "the code has expired; ask for a new one")
        if method.verification_tries >= MAX_TRIES:
            raise ValidationFailed.field("code", "too many wrong codes; ask for a new one")
        if not hmac.compare_digest(method.verification_hash, _code_hash(method_id, code.strip())):
            method.verification_tries += 1
            uow.session.add(method)
            uow.session.commit()  # keep the count even though the command fails
            raise ValidationFailed.field("code", "wrong code")
        method.verified_at = now
        method.verification_hash = None
        method.verification_expires_at = None
        uow.session.add(method)
        _audit(
            uow,
            actor,
            "contact_method.verified",
            method.user_id,
            {"kind": str(method.kind), "address": masked(method.kind, method.address)},
        )
        return _out(method)


def remove_contact_method(actor: Actor, method_id: int, *, owner_id: int | None = None) -> None:
    """Remove a method (its rules go with it; queued pages to it are skipped)."""
    with unit_of_work() as uow:
        method = _method(uow.session, actor, method_id, owner_id)
        uow.session.delete(method)
        _audit(
            uow,
            actor,
            "contact_method.removed",
            method.user_id,
            {"kind": str(method.kind), "address": masked(method.kind, method.address)},
        )


# --- rules -----------------------------------------------------------------------------------


def list_rules(actor: Actor, user_id: int) -> list[RuleOut]:
    """The effective rules per urgency: the user's own, or the defaults (id None)."""
    _authorize(actor, user_id)
    with unit_of_work() as uow:
        stored = uow.session.scalars(
            select(NotificationRule)
            .where(col(NotificationRule.user_id) == user_id)
            .order_by(col(NotificationRule.position))
        ).all()
    out: list[RuleOut] = []
    for urgency in Urgency:
        mine = [r for r in stored if r.urgency is urgency]
        if mine:
            out += [
                RuleOut(
                    id=r.id,
                    urgency=r.urgency,
                    channel=r.channel,
                    contact_method_id=r.contact_method_id,
                    delay_minutes=r.delay_minutes,
                    position=r.position,
                )
                for r in mine
            ]
            continue
        defaults, _ = rules.effective_rules([], urgency.value)
        out += [
            RuleOut(
                id=None,
                urgency=urgency,
                channel=ChannelKind(d.channel) if d.channel else None,
                contact_method_id=None,
                delay_minutes=d.delay_minutes,
                position=d.position,
            )
            for d in defaults
        ]
    return out


def set_rules(actor: Actor, user_id: int, urgency: Urgency, steps: list[RuleIn]) -> list[RuleOut]:
    """Replace the user's rules for one urgency (an empty list returns to the defaults).

    Raises:
        PermissionDenied, NotFound (user),
        ValidationFailed (a step names someone else's method, or none).
    """
    _authorize(actor, user_id)
    with unit_of_work() as uow:
        session = uow.session
        if session.get(User, user_id) is None:
            raise NotFound(f"User {user_id} does not exist.")
        for index, step in enumerate(steps):
            if (step.channel is None) == (step.contact_method_id is None):
                raise ValidationFailed.field(f"steps.{index}", "give a channel or a method")
            if step.contact_method_id is not None:
                method = session.get(ContactMethod, step.contact_method_id)
                if method is None or method.user_id != user_id:
                    raise ValidationFailed.field(f"steps.{index}", "not one of your methods")
        session.execute(
            delete(NotificationRule).where(
                col(NotificationRule.user_id) == user_id, col(NotificationRule.urgency) == urgency
            )
        )
        for position, step in enumerate(steps):
            session.add(
                NotificationRule(
                    user_id=user_id,
                    urgency=urgency,
                    channel=step.channel,
                    contact_method_id=step.contact_method_id,
                    delay_minutes=step.delay_minutes,
                    position=position,
                )
            )
        _audit(
            uow,
            actor,
            "rules.replaced",
            user_id,
            {
                "urgency": str(urgency),
                "steps": [s.model_dump(mode="json") for s in steps],
            },
        )
    return [r for r in list_rules(actor, user_id) if r.urgency is urgency]


def set_quiet_hours(actor: Actor, user_id: int, body: QuietHoursIn | None) -> None:
    """Set (or with None, clear) the user's quiet hours for low-urgency pages.

    Raises: Unauthenticated, PermissionDenied, NotFound (user)."""
    _authorize(actor, user_id)

    def minute(text: str) -> int:
        hours, minutes = text.split(":")
        return int(hours) * 60 + int(minutes)

    with unit_of_work() as uow:
        if uow.session.get(User, user_id) is None:
            raise NotFound(f"User {user_id} does not exist.")
        row = uow.session.get(QuietHours, user_id)
        if body is None:
            if row is not None:
                uow.session.delete(row)
                _audit(uow, actor, "quiet_hours.cleared", user_id, {})
            return
        row = row or QuietHours(user_id=user_id, start_minute=0, end_minute=0)
        row.start_minute, row.end_minute = minute(body.start), minute(body.end)
        uow.session.add(row)
        _audit(uow, actor, "quiet_hours.set", user_id, {"start": body.start, "end": body.end})


# --- warnings --------------------------------------------------------------------------------


def unreachable_users(session: Session, user_ids: list[int]) -> list[int]:
    """Of ``user_ids``, those without a single verified contact method (nobody can page them)."""
    if not user_ids:
        return []
    reachable = set(
        session.scalars(
            select(col(ContactMethod.user_id)).where(
                col(ContactMethod.user_id).in_(user_ids),
                col(ContactMethod.verified_at).is_not(None),
            )
        ).all()
    )
    return [u for u in dict.fromkeys(user_ids) if u not in reachable]


def verified_channels(session: Session, user_id: int) -> list[str]:
    """The kinds of the user's verified contact methods, sorted (for the paging preview)."""
    kinds = session.scalars(
        select(col(ContactMethod.kind)).where(
            col(ContactMethod.user_id) == user_id, col(ContactMethod.verified_at).is_not(None)
        )
    ).all()
    return sorted({k.value for k in kinds})
