"""``GET /api/v1/web-push/vapid-public-key``: the key browsers subscribe with."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from backend.notifications import vapid

PATH = "/api/v1/web-push/vapid-public-key"


def test_the_public_key_is_the_persisted_one_and_never_changes(client: TestClient) -> None:
    first = client.get(PATH)
    assert first.status_code == 200
    body = first.json()
    assert set(body) == {"public_key"}
    assert body["public_key"] == vapid.public_key()
    # applicationServerKey format: urlsafe base64, no padding, an uncompressed P-256 point.
    point = base64.urlsafe_b64decode(body["public_key"] + "=")
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    assert "=" not in body["public_key"]
    assert client.get(PATH).json() == body


def test_the_route_is_documented(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    operation = spec["paths"][PATH]["get"]
    schema_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_ref == "#/components/schemas/VapidPublicKeyOut"
    assert spec["components"]["schemas"]["VapidPublicKeyOut"]["required"] == ["public_key"]
