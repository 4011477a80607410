"""Secret tokens: generation, hashing at rest, constant-time comparison, HMAC signatures."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token(nbytes: int = 32) -> str:
    """A URL-safe random token with ``nbytes`` of entropy."""
    return secrets.token_urlsafe(nbytes)


def sha256_hex(value: str) -> str:
    """Tokens are stored as their SHA-256: a database leak reveals no usable secret."""
    return hashlib.sha256(value.encode()).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(secret: str, message: bytes, signature: str) -> bool:
    """Check ``v1=<hex>`` (or bare hex) against HMAC-SHA256 of ``message``, in constant time."""
    given = signature.removeprefix("v1=").strip().lower()
    return constant_time_equals(hmac_sha256_hex(secret, message), given)
