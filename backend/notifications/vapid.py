"""The VAPID key pair of browser push (RFC 8292): its table, its creation and reading it.

One P-256 pair per installation, generated on first need and kept for ever (ADR 0009):
every browser subscription is bound to the public key it was made with, so a new pair would
silently orphan every subscribed browser. The private key is stored Fernet-encrypted under
``ONCALL_SECRET_KEY`` (``backend.core.secretbox``); the public key in the clear, as the
urlsafe base64 uncompressed point that browsers take as ``applicationServerKey``.

Two processes creating the pair at once both insert row 1 with ``ON CONFLICT DO NOTHING``;
the loser throws its pair away and reads the winner's, so everyone signs with the same key.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Column, String, Text
from sqlmodel import Field, Session, SQLModel

from backend.core import clock, secretbox
from backend.core.db import UTCDateTime, insert_ignoring_conflict, unit_of_work
from backend.core.errors import PermanentError

KEY_ROW = 1  # the single row: a primary key, so a second pair cannot be inserted


class VapidKey(SQLModel, table=True):
    __tablename__ = "web_push_vapid_key"

    id: int = Field(default=KEY_ROW, primary_key=True)
    # urlsafe base64 (no padding) of the 65-byte uncompressed P-256 point.
    public_key: str = Field(sa_column=Column(String(100), nullable=False))
    # The PKCS#8 PEM of the private key, encrypted with secretbox.
    private_key_sealed: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


@dataclass(frozen=True)
class VapidKeys:
    public_key: str  # applicationServerKey: urlsafe base64 uncompressed point
    private_key: ec.EllipticCurvePrivateKey


def encode_public(key: ec.EllipticCurvePublicKey) -> str:
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def _new_row() -> dict[str, object]:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "id": KEY_ROW,
        "public_key": encode_public(private.public_key()),
        "private_key_sealed": secretbox.encrypt(pem),
        "created_at": clock.now(),
    }


def _opened(row: VapidKey) -> VapidKeys:
    pem = secretbox.decrypt(row.private_key_sealed)
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise PermanentError("The stored VAPID key is not an elliptic-curve key.")
    if encode_public(private.public_key()) != row.public_key:
        raise PermanentError("The stored VAPID private and public keys do not match.")
    return VapidKeys(public_key=row.public_key, private_key=private)


def ensure_keys(session: Session) -> VapidKeys:
    """The installation's key pair, created in ``session`` on first need.

    Raises:
        PermanentError: the stored key cannot be decrypted (another ONCALL_SECRET_KEY).
    """
    row = session.get(VapidKey, KEY_ROW)
    if row is None:
        table = VapidKey.__table__  # type: ignore[attr-defined]  # SQLModel sets it at runtime
        insert_ignoring_conflict(
            session, table, _new_row(), index_elements=["id"], returning=["id"]
        )
        row = session.get(VapidKey, KEY_ROW, populate_existing=True)
        assert row is not None  # inserted by us or by the process that won the race
    return _opened(row)


def keys() -> VapidKeys:
    """The key pair in its own transaction (committed before anyone is told the public key)."""
    with unit_of_work() as uow:
        return ensure_keys(uow.session)


def public_key() -> str:
    """The public key browsers subscribe with (``applicationServerKey``)."""
    return keys().public_key
