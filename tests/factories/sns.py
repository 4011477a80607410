"""Our own SNS signing certificate standing in for Amazon's, and a local server for it."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from backend.ingest.sns_signature import canonical_string

CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def cert_pem(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return cert.public_bytes(serialization.Encoding.PEM)


PEM = cert_pem(KEY)


def signed(
    message: dict[str, Any],
    version: str = "2",
    key: rsa.RSAPrivateKey = KEY,
    cert_url: str | None = None,
) -> dict[str, Any]:
    """``message`` with SignatureVersion, SigningCertURL and a Signature over its fields."""
    algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()  # noqa: S303 - SNS v1 is SHA1
    out = {
        **message,
        "SignatureVersion": version,
        "SigningCertURL": cert_url or message.get("SigningCertURL", CERT_URL),
    }
    signature = key.sign(canonical_string(out), padding.PKCS1v15(), algorithm)
    return {**out, "Signature": base64.b64encode(signature).decode()}


@contextmanager
def certificate_server(pem: bytes = PEM) -> Iterator[str]:
    """Serves ``pem`` at ``<prefix>cert.pem`` on 127.0.0.1; yields the prefix."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = (200, pem) if self.path == "/cert.pem" else (404, b"no")
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            del args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
