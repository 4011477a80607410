"""Finding the integration a request is for, and checking that the sender holds its secret.

Integration rows are read through a short-lived per-process cache (a few seconds): the hot
path of an alert storm should not re-read a row that almost never changes. A failed secret
check always re-reads the row before refusing, so a freshly rotated secret works at once;
other changes (disable, delete) reach other processes within the cache TTL (5 s).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select

from backend.core import secretbox
from backend.core.db import unit_of_work
from backend.core.secrets import constant_time_equals, sha256_hex, verify_signature
from backend.core.settings import get_settings
from backend.ingest.cache import TTLCache
from backend.ingest.errors import IntegrationNotFound, InvalidIntegrationSecret, InvalidSignature
from backend.ingest.models import Integration, IntegrationType


@dataclass(frozen=True)
class IntegrationSnapshot:
    id: int
    key: str
    name: str
    type: IntegrationType
    service_id: int | None
    secret_hash: str
    secret_encrypted: str
    previous_secret_hash: str | None
    previous_secret_encrypted: str | None
    previous_secret_expires_at: datetime | None
    dedup_window_seconds: int
    auto_resolve: bool
    enabled: bool

    @classmethod
    def of(cls, row: Integration) -> IntegrationSnapshot:
        assert row.id is not None
        return cls(
            id=row.id,
            key=row.key,
            name=row.name,
            type=row.type,
            service_id=row.service_id,
            secret_hash=row.secret_hash,
            secret_encrypted=row.secret_encrypted,
            previous_secret_hash=row.previous_secret_hash,
            previous_secret_encrypted=row.previous_secret_encrypted,
            previous_secret_expires_at=row.previous_secret_expires_at,
            dedup_window_seconds=row.dedup_window_seconds,
            auto_resolve=row.auto_resolve,
            enabled=row.enabled,
        )

    def previous_valid(self, now: datetime) -> bool:
        expires = self.previous_secret_expires_at
        return self.previous_secret_hash is not None and expires is not None and now < expires


_cache: TTLCache[IntegrationSnapshot | None] = TTLCache()


def _by_key(key: str) -> IntegrationSnapshot | None:
    with unit_of_work() as uow:
        row = uow.session.exec(select(Integration).where(Integration.key == key)).first()
        return None if row is None else IntegrationSnapshot.of(row)


def _by_secret_hash(digest: str) -> IntegrationSnapshot | None:
    with unit_of_work() as uow:
        row = _row_by_secret_hash(uow.session, digest)
        return None if row is None else IntegrationSnapshot.of(row)


def _row_by_secret_hash(session: Session, digest: str) -> Integration | None:
    stmt = select(Integration).where(
        or_(col(Integration.secret_hash) == digest, col(Integration.previous_secret_hash) == digest)
    )
    return session.exec(stmt).first()


def find_by_key(key: str, *, fresh: bool = False) -> IntegrationSnapshot:
    """The enabled integration with public key ``key``.

    Raises:
        IntegrationNotFound: no such key, or the integration is disabled.
    """
    snapshot = _cache.get(f"key:{key}", lambda: _by_key(key), fresh=fresh)
    if snapshot is None or not snapshot.enabled:
        raise IntegrationNotFound("No enabled integration has this key.")
    return snapshot


def find_by_routing_key(routing_key: str, now: datetime) -> IntegrationSnapshot | None:
    """The enabled PagerDuty-type integration whose current or still-valid previous secret is
    ``routing_key``, or None."""
    digest = sha256_hex(routing_key)
    snapshot = _cache.get(f"hash:{digest}", lambda: _by_secret_hash(digest))
    if snapshot is None or not _holds_secret(snapshot, digest, now):
        snapshot = _cache.get(f"hash:{digest}", lambda: _by_secret_hash(digest), fresh=True)
    if snapshot is None or not snapshot.enabled or snapshot.type is not IntegrationType.PAGERDUTY:
        return None
    return snapshot if _holds_secret(snapshot, digest, now) else None


def _holds_secret(snapshot: IntegrationSnapshot, digest: str, now: datetime) -> bool:
    if constant_time_equals(digest, snapshot.secret_hash):
        return True
    previous = snapshot.previous_secret_hash
    return (
        previous is not None
        and snapshot.previous_valid(now)
        and constant_time_equals(digest, previous)
    )


def bearer_or_token(headers: Mapping[str, str], query_token: str | None) -> str:
    """The secret a provider sent: ``Authorization: Bearer <secret>`` or ``?token=<secret>``."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return (query_token or "").strip()


def check_token(snapshot: IntegrationSnapshot, token: str, now: datetime) -> IntegrationSnapshot:
    """Verify a provider's bearer/query secret; re-reads the row once before refusing.

    Raises:
        InvalidIntegrationSecret: no secret, or not the current/previous one.
    """
    if not token:
        raise InvalidIntegrationSecret("Send the secret as 'Authorization: Bearer <secret>'.")
    digest = sha256_hex(token)
    if _holds_secret(snapshot, digest, now):
        return snapshot
    fresh = find_by_key(snapshot.key, fresh=True)
    if _holds_secret(fresh, digest, now):
        return fresh
    raise InvalidIntegrationSecret("The secret is not valid for this integration.")


def _signed_time(headers: Mapping[str, str], now: datetime) -> datetime:
    raw = headers.get("x-oncall-timestamp", "").strip()
    if not raw.isdigit():
        raise InvalidSignature("Send X-OnCall-Timestamp: <unix seconds>.")
    ingest = get_settings().ingest
    signed_at = datetime.fromtimestamp(int(raw), now.tzinfo)
    if signed_at < now - timedelta(seconds=ingest.max_timestamp_age_seconds):
        raise InvalidSignature("X-OnCall-Timestamp is more than 5 minutes old.")
    if signed_at > now + timedelta(seconds=ingest.max_timestamp_skew_seconds):
        raise InvalidSignature("X-OnCall-Timestamp is more than 60 s in the future.")
    return signed_at


def _signature_matches(
    snapshot: IntegrationSnapshot, message: bytes, sig: str, now: datetime
) -> bool:
    if verify_signature(secretbox.decrypt(snapshot.secret_encrypted), message, sig):
        return True
    previous = snapshot.previous_secret_encrypted
    return (
        previous is not None
        and snapshot.previous_valid(now)
        and verify_signature(secretbox.decrypt(previous), message, sig)
    )


def check_signature(
    snapshot: IntegrationSnapshot, headers: Mapping[str, str], body: bytes, now: datetime
) -> tuple[IntegrationSnapshot, datetime]:
    """Verify ``X-OnCall-Signature`` over ``<timestamp>.<raw body>`` and the replay window.

    Returns the (possibly re-read) snapshot and the signed time.

    Raises:
        InvalidSignature: a missing or malformed header, a stale or future timestamp, or a
            signature made with neither the current nor the previous (in grace) secret.
    """
    signed_at = _signed_time(headers, now)
    signature = headers.get("x-oncall-signature", "").strip()
    if not signature.startswith("v1="):
        raise InvalidSignature("Send X-OnCall-Signature: v1=<hex HMAC-SHA256>.")
    message = headers["x-oncall-timestamp"].strip().encode() + b"." + body
    if _signature_matches(snapshot, message, signature, now):
        return snapshot, signed_at
    fresh = find_by_key(snapshot.key, fresh=True)
    if _signature_matches(fresh, message, signature, now):
        return fresh, signed_at
    raise InvalidSignature("The signature does not match the body and timestamp.")
