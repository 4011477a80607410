"""A browser's PushSubscription as a contact method address: parsing, checking, storing form.

The address of a ``web_push`` contact method is the JSON the browser gives from
``PushSubscription.toJSON()``: ``{"endpoint": "https://…", "keys": {"p256dh": …, "auth": …}}``.
It is checked when the method is added (not at the first page, when nobody is watching) and
stored compact with sorted keys, so the same subscription sent twice is the same address.
Pure: no database, no settings object (the caller says whether plain-http test endpoints pass).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from backend.core.errors import ValidationFailed

MAX_LENGTH = 1024  # the contact method address column
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
P256DH_BYTES = 65  # an uncompressed P-256 point
AUTH_BYTES = 16


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str

    def as_info(self) -> dict[str, object]:
        """The ``subscription_info`` pywebpush takes."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}

    def address(self) -> str:
        return json.dumps(self.as_info(), separators=(",", ":"), sort_keys=True)


def _refuse(msg: str) -> ValidationFailed:
    return ValidationFailed.field("address", msg)


def _key(keys: dict[str, object], name: str, size: int) -> str:
    value = keys.get(name)
    if not isinstance(value, str) or not value:
        raise _refuse(f"the subscription's keys.{name} is missing")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise _refuse(f"keys.{name} is not urlsafe base64") from exc
    if len(raw) != size:
        raise _refuse(f"keys.{name} must hold {size} bytes, not {len(raw)}")
    return value.rstrip("=")


def _endpoint(value: object, *, allow_insecure: bool) -> str:
    if not isinstance(value, str) or not value:
        raise _refuse("the subscription has no endpoint")
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return value
    if parts.scheme == "http" and allow_insecure and parts.hostname in LOCAL_HOSTS:
        return value
    raise _refuse("the subscription's endpoint must be an https:// URL")


def parse(address: str, *, allow_insecure: bool = False) -> Subscription:
    """The subscription in ``address`` (PushSubscription JSON).

    Raises:
        ValidationFailed: on field ``address``: not JSON, no https endpoint, keys missing or
        of the wrong size, or too long to store.
    """
    try:
        data = json.loads(address)
    except ValueError as exc:
        raise _refuse("a browser subscription must be PushSubscription JSON") from exc
    if not isinstance(data, dict):
        raise _refuse("a browser subscription must be a JSON object")
    keys = data.get("keys")
    if not isinstance(keys, dict):
        raise _refuse("the subscription has no keys (p256dh and auth)")
    subscription = Subscription(
        endpoint=_endpoint(data.get("endpoint"), allow_insecure=allow_insecure),
        p256dh=_key(keys, "p256dh", P256DH_BYTES),
        auth=_key(keys, "auth", AUTH_BYTES),
    )
    if len(subscription.address()) > MAX_LENGTH:
        raise _refuse(f"the subscription is longer than {MAX_LENGTH} characters")
    return subscription


def host_of(address: str) -> str:
    """The push service's host of a stored subscription ("" if it cannot be read): what the
    UI and the audit log show instead of the JSON and its keys."""
    try:
        endpoint = json.loads(address).get("endpoint", "")
    except (ValueError, AttributeError):
        return ""
    return (urlsplit(endpoint).hostname or "") if isinstance(endpoint, str) else ""
