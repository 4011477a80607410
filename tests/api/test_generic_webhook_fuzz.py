"""The signed generic webhook over HTTP, fed any body with a correct signature (issue 7 §5).

The answer is 202 or a 4xx problem+json, never a 5xx: bodies are any JSON, the real samples
mangled, and raw bytes that are not JSON at all (invalid UTF-8, nesting past the decoder's
limit, numbers past Python's digit limit, NaN).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.api.app import create_api
from backend.ingest.models import IntegrationType
from backend.ingest.schemas import IntegrationSecret
from tests.factories.ingest import make_integration, sign
from tests.factories.payloads import bodies

PROBLEM = "application/problem+json"

not_json = st.sampled_from(
    [
        b"",
        b"\xff\xfe\x00",
        b'{"title": "\xed\xa0\x80"}',  # a UTF-8-encoded lone surrogate
        b"[" * 100_000,
        b"[" * 5_000 + b"]" * 5_000,
        b'{"title": "x", "n": ' + b"9" * 5_000 + b"}",
        b'{"title": NaN, "severity": Infinity}',
        b'{"title": "x"}\x00',
        b'{"title": "x", "title": 1}',
        '{"title": "sent as UTF-16"}'.encode("utf-16-le"),  # valid JSON, full of NUL bytes
    ]
) | st.binary(max_size=200)
json_bodies = bodies(IntegrationType.GENERIC).map(lambda value: json.dumps(value).encode())


@pytest.fixture
def generic() -> Iterator[tuple[TestClient, IntegrationSecret]]:
    with TestClient(create_api(), base_url="https://localhost:3000") as client:
        yield client, make_integration()


@settings(
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=json_bodies | not_json)
def test_any_signed_body_gets_202_or_a_4xx_problem(
    generic: tuple[TestClient, IntegrationSecret], body: bytes
) -> None:
    client, created = generic
    response = client.post(
        f"/api/v1/integrations/{created.integration.key}/alerts",
        content=body,
        headers={"Content-Type": "application/json", **sign(created.secret, body)},
    )
    if response.status_code == 202:
        assert response.json()["alerts"]
        return
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == response.status_code
