"""Amazon SNS message signatures (the CloudWatch integration, INT-01).

SNS signs every HTTPS delivery with the topic's X.509 certificate: the signature covers a
canonical string of the message's fields, and ``SigningCertURL`` says where the certificate
is. We only fetch certificates from ``https://sns.<region>.amazonaws.com/….pem`` (anything
else could be an attacker's own certificate), keep them in memory for a day, and check the
signature with SHA1 (``SignatureVersion`` 1) or SHA256 (2) — AWS's documented procedure:
https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html

The integration's token already authenticates the request; the signature additionally proves
the body came from SNS unchanged, so a leaked URL alone cannot inject alarms.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CERT_URL = re.compile(r"^https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[^?#]+\.pem$", re.ASCII)
CERT_TTL_SECONDS = 24 * 3600
FETCH_TIMEOUT_SECONDS = 5.0
_NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SUBSCRIPTION_FIELDS = (
    "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
)  # fmt: skip
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}


class SnsSignatureError(Exception):
    """The message is not provably from SNS; the text says why (safe to show the sender)."""


def canonical_string(message: Mapping[str, Any]) -> bytes:
    """The bytes SNS signed: ``Key\\nValue\\n`` for each signed field present, in AWS's order."""
    kind = message.get("Type")
    fields = _NOTIFICATION_FIELDS if kind == "Notification" else _SUBSCRIPTION_FIELDS
    parts: list[str] = []
    for name in fields:
        value = message.get(name)
        if value is None:
            if name == "Subject":  # the only optional signed field
                continue
            raise SnsSignatureError(f"The signed field {name} is missing.")
        parts.append(f"{name}\n{value}\n")
    return "".join(parts).encode()


class CertificateCache:
    """Signing certificates by URL, fetched once a day at most (per process)."""

    def __init__(
        self,
        fetch: Callable[[str], bytes] | None = None,
        *,
        extra_url_prefix: str = "",
        ttl_seconds: float = CERT_TTL_SECONDS,
    ) -> None:
        self._fetch = fetch or _download
        # Tests serve certificates from 127.0.0.1; never set on a real deployment.
        self._extra_prefix = extra_url_prefix
        self._ttl = ttl_seconds
        self._certs: dict[str, tuple[float, rsa.RSAPublicKey]] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str) -> bool:
        return bool(CERT_URL.match(url)) or bool(
            self._extra_prefix and url.startswith(self._extra_prefix) and url.endswith(".pem")
        )

    def key_for(self, url: str) -> rsa.RSAPublicKey:
        if not self.allowed(url):
            raise SnsSignatureError("SigningCertURL is not an Amazon SNS certificate address.")
        now = time.monotonic()
        with self._lock:
            hit = self._certs.get(url)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        try:
            cert = x509.load_pem_x509_certificate(self._fetch(url))
        except (httpx2.HTTPError, ValueError) as exc:
            raise SnsSignatureError("The SNS signing certificate could not be fetched.") from exc
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise SnsSignatureError("The SNS signing certificate is not an RSA certificate.")
        with self._lock:
            self._certs[url] = (now, key)
        return key


def _download(url: str) -> bytes:
    response = httpx2.get(url, timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False)
    response.raise_for_status()
    return response.content


def verify(message: Mapping[str, Any], certificates: CertificateCache) -> None:
    """Check ``message`` (the parsed SNS envelope) was signed by SNS.

    Raises:
        SnsSignatureError: unsigned, unknown version, foreign certificate, or a bad signature.
    """
    version = str(message.get("SignatureVersion", ""))
    algorithm = _HASHES.get(version)
    if algorithm is None:
        raise SnsSignatureError("SignatureVersion must be 1 or 2.")
    raw_signature, url = message.get("Signature"), message.get("SigningCertURL")
    if not isinstance(raw_signature, str) or not isinstance(url, str):
        raise SnsSignatureError("The message carries no SNS signature.")
    try:
        signature = base64.b64decode(raw_signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SnsSignatureError("The SNS signature is not base64.") from exc
    key = certificates.key_for(url)
    try:
        key.verify(signature, canonical_string(message), padding.PKCS1v15(), algorithm())
    except InvalidSignature as exc:
        raise SnsSignatureError("The SNS signature does not match the message.") from exc
