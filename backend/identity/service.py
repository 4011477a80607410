"""User commands and reads: profiles, platform roles, first-login provisioning from SSO."""

from __future__ import annotations

from typing import Any

from backend.audit import service as audit
from backend.audit.models import Severity
from backend.core import clock
from backend.core.actor import Actor, PlatformRole, require_authenticated
from backend.core.db import UnitOfWork, unit_of_work
from backend.core.errors import PermissionDenied
from backend.identity import queries, sessions
from backend.identity.errors import UserNotFound
from backend.identity.models import User
from backend.identity.schemas import ProfileUpdate, UserOut


def to_out(user: User) -> UserOut:
    assert user.id is not None
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        phone=user.phone,
        time_zone=user.time_zone,
        platform_role=PlatformRole(user.platform_role),
        is_active=user.is_active,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def list_users(actor: Actor, *, text: str = "") -> list[UserOut]:
    """Active users (visible to every signed-in user: you need them to build teams)."""
    require_authenticated(actor)
    with unit_of_work() as uow:
        return [to_out(u) for u in queries.list_users(uow.session, text=text)]


def get_user(actor: Actor, user_id: int) -> UserOut:
    """Raises: UserNotFound."""
    require_authenticated(actor)
    with unit_of_work() as uow:
        user = queries.user_by_id(uow.session, user_id)
        if user is None:
            raise UserNotFound(f"User {user_id} does not exist.")
        return to_out(user)


def update_profile(actor: Actor, user_id: int, data: ProfileUpdate) -> UserOut:
    """Change name, phone or time zone: your own, or anyone's as a platform admin.

    Raises:
        PermissionDenied, UserNotFound.
    """
    require_authenticated(actor)
    if actor.user_id != user_id and not actor.is_platform_admin:
        raise PermissionDenied("You can only edit your own profile.")
    with unit_of_work() as uow:
        user = queries.user_by_id(uow.session, user_id)
        if user is None:
            raise UserNotFound(f"User {user_id} does not exist.")
        before = _profile(user)
        for key, value in data.model_dump(exclude_unset=True).items():
            setattr(user, key, value or None if key == "phone" else value)
        diff = audit.changes(before, _profile(user))
        if diff:
            user.updated_at = clock.now()
            uow.session.add(user)
            audit.record(
                uow,
                actor,
                "identity.user.profile_updated",
                target_type="user",
                target_id=user_id,
                target_label=user.email,
                severity=Severity.LOW,
                diff=diff,
            )
        return to_out(user)


def _profile(user: User) -> dict[str, Any]:
    return {"name": user.name, "phone": user.phone, "time_zone": user.time_zone}


def set_platform_role(actor: Actor, email: str, role: PlatformRole) -> UserOut:
    """Promote or demote a user (platform admins and the CLI).

    Raises:
        PermissionDenied, UserNotFound.
    """
    if not actor.is_platform_admin:
        raise PermissionDenied("Only platform admins can change platform roles.")
    with unit_of_work() as uow:
        user = queries.user_by_email(uow.session, email)
        if user is None:
            raise UserNotFound(f"No user with e-mail {email}.")
        old = PlatformRole(user.platform_role)
        if old != role:
            user.platform_role = role
            user.updated_at = clock.now()
            uow.session.add(user)
            audit.record(
                uow,
                actor,
                "identity.user.platform_role_changed",
                target_type="user",
                target_id=user.id,
                target_label=user.email,
                severity=Severity.HIGH,
                diff={"platform_role": [old.value, role.value]},
            )
        return to_out(user)


def deactivate_user(uow: UnitOfWork, actor: Actor, user: User, *, reason: str) -> int:
    """Deactivate ``user`` inside ``uow`` and revoke every open session; returns how many.

    Idempotent: an inactive user with no open sessions changes nothing and writes no audit row.

    Raises:
        PermissionDenied: the actor is not a platform admin (or the system).
    """
    if not actor.is_platform_admin:
        raise PermissionDenied("Only platform admins can deactivate users.")
    revoked = 0
    if user.is_active:
        user.is_active = False
        user.updated_at = clock.now()
        uow.session.add(user)
        audit.record(
            uow,
            actor,
            "identity.user.deactivated",
            target_type="user",
            target_id=user.id,
            target_label=user.email,
            severity=Severity.HIGH,
            diff={"is_active": [True, False], "reason": reason},
        )
    if user.id is not None and queries.active_sessions(uow.session, user.id):
        revoked = sessions.revoke_all(uow, actor, user, reason=reason)
    return revoked


def reactivate_user(uow: UnitOfWork, actor: Actor, user: User, *, reason: str) -> bool:
    """Reactivate ``user`` inside ``uow``; returns whether anything changed (idempotent).

    Raises:
        PermissionDenied: the actor is not a platform admin (or the system).
    """
    if not actor.is_platform_admin:
        raise PermissionDenied("Only platform admins can reactivate users.")
    if user.is_active:
        return False
    user.is_active = True
    user.updated_at = clock.now()
    uow.session.add(user)
    audit.record(
        uow,
        actor,
        "identity.user.reactivated",
        target_type="user",
        target_id=user.id,
        target_label=user.email,
        severity=Severity.HIGH,
        diff={"is_active": [False, True], "reason": reason},
    )
    return True
