"""The signed generic webhook is answered by GenericAlertFastPath (no FastAPI routing), with
the same contract as the route it shortcuts; what it does not handle reaches FastAPI."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.api.middleware import SECURITY_HEADERS
from backend.api.routes.ingest import GenericAlertFastPath
from tests.factories.ingest import make_integration, sign


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys the fast path answered."""
    keys: list[str] = []
    original = GenericAlertFastPath._answer

    async def counting(self: GenericAlertFastPath, key: str, *args: Any) -> None:
        keys.append(key)
        await original(self, key, *args)

    monkeypatch.setattr(GenericAlertFastPath, "_answer", counting)
    return keys


def post(client: TestClient, key: str, secret: str, payload: object) -> Any:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", **sign(secret, body), "X-Request-ID": "r" * 12}
    return client.post(f"/api/v1/integrations/{key}/alerts", content=body, headers=headers)


def test_a_signed_alert_is_answered_by_the_fast_path(
    client: TestClient, answered: list[str]
) -> None:
    created = make_integration()
    response = post(client, created.integration.key, created.secret, {"title": "Disk full"})
    assert answered == [created.integration.key]
    assert response.status_code == 202
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"delivery_id", "outcome", "alerts", "note"}
    assert body["outcome"] == "accepted"
    assert [a["outcome"] for a in body["alerts"]] == ["new"]
    # Still inside RequestContextMiddleware: the request id and the security headers.
    assert response.headers["x-request-id"] == "r" * 12
    for name, value in SECURITY_HEADERS:
        assert response.headers[name.decode()] == value.decode()


def test_its_errors_are_the_same_problem_json(client: TestClient, answered: list[str]) -> None:
    created = make_integration()
    response = post(client, created.integration.key, "not-the-secret", {"title": "x"})
    assert answered == [created.integration.key]
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_signature"
    assert response.headers["x-request-id"] == "r" * 12


def test_other_requests_go_to_fastapi(client: TestClient, answered: list[str]) -> None:
    created = make_integration()
    too_long = post(client, "k" * 65, created.secret, {"title": "x"})
    assert too_long.status_code == 422  # the route's Path(max_length=64)
    wrong_method = client.get(f"/api/v1/integrations/{created.integration.key}/alerts")
    assert wrong_method.status_code == 405
    assert answered == []
