"""API keys: issue (shown once), authenticate, revoke. Managed by platform admins."""

from __future__ import annotations

import secrets
import string

from sqlalchemy import update
from sqlmodel import col, select

from backend.apikeys.errors import ApiKeyNotFound, InsufficientScope, InvalidApiKey
from backend.apikeys.models import ApiKey
from backend.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from backend.apikeys.scopes import Scope, satisfies
from backend.audit import service as audit
from backend.audit.models import Severity
from backend.core import clock
from backend.core.actor import Actor, ActorKind, PlatformRole
from backend.core.db import unit_of_work
from backend.core.errors import PermissionDenied
from backend.core.secrets import sha256_hex

_ALPHABET = string.ascii_letters + string.digits
KEY_RANDOM_CHARS = 40  # ~238 bits
DISPLAY_PREFIX_RANDOM_CHARS = 6


def _require_admin(actor: Actor) -> None:
    if not actor.is_platform_admin:
        raise PermissionDenied("Only platform admins manage API keys.")


def _status(key: ApiKey) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= clock.now():
        return "expired"
    return "active"


def _out(key: ApiKey) -> ApiKeyOut:
    assert key.id is not None
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        purpose=key.purpose,
        display_prefix=key.display_prefix,
        scopes=list(key.scopes),
        created_by=key.created_by_label,
        created_at=key.created_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
        use_count=key.use_count,
        status=_status(key),
    )


def create_key(actor: Actor, data: ApiKeyCreate) -> ApiKeyCreated:
    """Issue a key. The full key is in the result and nowhere else, ever.

    Raises:
        PermissionDenied.
    """
    _require_admin(actor)
    random_part = "".join(secrets.choice(_ALPHABET) for _ in range(KEY_RANDOM_CHARS))
    raw = f"oc_{data.purpose.value}_{random_part}"
    with unit_of_work() as uow:
        key = ApiKey(
            name=data.name,
            purpose=data.purpose.value,
            display_prefix=raw[: len(f"oc_{data.purpose.value}_") + DISPLAY_PREFIX_RANDOM_CHARS],
            key_hash=sha256_hex(raw),
            scopes=sorted({s.value for s in data.scopes}),
            created_by_label=actor.label,
            expires_at=data.expires_at,
        )
        uow.session.add(key)
        uow.session.flush()
        audit.record(
            uow,
            actor,
            "apikeys.key.created",
            target_type="api_key",
            target_id=key.id,
            target_label=f"{key.name} ({key.display_prefix}…)",
            severity=Severity.HIGH,
            diff={"scopes": key.scopes, "expires_at": key.expires_at},
        )
        return ApiKeyCreated(**_out(key).model_dump(), key=raw)


def list_keys(actor: Actor) -> list[ApiKeyOut]:
    """Raises: PermissionDenied."""
    _require_admin(actor)
    with unit_of_work() as uow:
        keys = uow.session.exec(select(ApiKey).order_by(col(ApiKey.id).desc()))
        return [_out(k) for k in keys]


def revoke_key(actor: Actor, key_id: int) -> ApiKeyOut:
    """Revoke a key at once (idempotent).

    Raises:
        PermissionDenied, ApiKeyNotFound.
    """
    _require_admin(actor)
    with unit_of_work() as uow:
        key = uow.session.get(ApiKey, key_id)
        if key is None:
            raise ApiKeyNotFound(f"API key {key_id} does not exist.")
        if key.revoked_at is None:
            key.revoked_at = clock.now()
            uow.session.add(key)
            audit.record(
                uow,
                actor,
                "apikeys.key.revoked",
                target_type="api_key",
                target_id=key.id,
                target_label=f"{key.name} ({key.display_prefix}…)",
                severity=Severity.HIGH,
            )
        return _out(key)


def authenticate(
    raw_key: str, required: Scope, *, ip: str | None = None, user_agent: str | None = None
) -> Actor:
    """The machine actor behind ``raw_key`` if it is active and has ``required``.

    The lookup is by SHA-256 of the presented key through a unique index, so no stored secret
    is ever compared byte by byte.

    Raises:
        InvalidApiKey: unknown, revoked or expired key (one error, no hint which).
        InsufficientScope: a valid key without the scope.
    """
    if not raw_key.startswith("oc_"):
        raise InvalidApiKey("The API key is not valid.")
    with unit_of_work() as uow:
        key = uow.session.exec(select(ApiKey).where(ApiKey.key_hash == sha256_hex(raw_key))).first()
        if key is None or _status(key) != "active":
            raise InvalidApiKey("The API key is not valid.")
        scopes = frozenset(key.scopes)
        if not satisfies(scopes, required):
            raise InsufficientScope(f"This API key needs the '{required.value}' scope.")
        # One atomic statement: concurrent requests must not lose counts.
        uow.session.exec(
            update(ApiKey)
            .where(col(ApiKey.id) == key.id)
            .values(use_count=ApiKey.use_count + 1, last_used_at=clock.now())
        )
        return Actor(
            kind=ActorKind.API_KEY,
            id=key.id,
            label=f"api_key:{key.name}",
            # Keys act as platform admins within their scopes; scopes are the limit.
            platform_role=PlatformRole.PLATFORM_ADMIN,
            scopes=scopes,
            ip=ip,
            user_agent=user_agent,
        )
