"""The public ingest contract over HTTP: status codes, problem bodies, PagerDuty's shapes."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from backend.apikeys.scopes import Scope
from backend.ingest.models import IntegrationType
from tests.api.conftest import bearer, issue_key
from tests.factories.ingest import make_integration, make_service, sign

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
PROBLEM = "application/problem+json"


def post_generic(client: TestClient, key: str, secret: str, payload: object, **headers: str):  # type: ignore[no-untyped-def]
    body = json.dumps(payload).encode()
    all_headers = {"Content-Type": "application/json", **sign(secret, body), **headers}
    return client.post(f"/api/v1/integrations/{key}/alerts", content=body, headers=all_headers)


def test_generic_202_with_outcomes_then_repeated(client: TestClient) -> None:
    created = make_integration()
    payload = {"title": "Disk full", "dedup_key": "disk", "custom": {"kept": True}}
    first = post_generic(client, created.integration.key, created.secret, payload)
    assert first.status_code == 202
    body = first.json()
    assert body["outcome"] == "accepted"
    assert [(a["outcome"], a["dedup_key"]) for a in body["alerts"]] == [("new", "disk")]
    again = post_generic(client, created.integration.key, created.secret, payload)
    assert again.status_code == 202
    assert [a["outcome"] for a in again.json()["alerts"]] == ["repeated"]


def test_errors_are_problem_json_with_codes(client: TestClient) -> None:
    created = make_integration()
    key, secret = created.integration.key, created.secret
    cases = [
        (post_generic(client, "unknown-key", secret, {"title": "x"}), 404, "not_found"),
        (post_generic(client, key, "wrong", {"title": "x"}), 401, "invalid_signature"),
        (post_generic(client, key, secret, {"severity": "high"}), 422, "validation_failed"),
        (
            client.post(
                f"/api/v1/integrations/{key}/alerts",
                content=b"title=x",
                headers={"Content-Type": "text/plain", **sign(secret, b"title=x")},
            ),
            415,
            "unsupported_media_type",
        ),
        (
            client.post(
                f"/api/v1/integrations/{key}/alerts",
                content=b"x" * (256 * 1024 + 1),
                headers={"Content-Type": "application/json"},
            ),
            413,
            "payload_too_large",
        ),
    ]
    for response, status, code in cases:
        assert (
            response.status_code,
            response.headers["content-type"],
            response.json()["code"],
        ) == (status, PROBLEM, code)
    errors = cases[2][0].json()["errors"]
    assert [e["loc"] for e in errors] == [["body", "title"]]


def test_provider_route_bearer_and_token(client: TestClient) -> None:
    created = make_integration(IntegrationType.ALERTMANAGER)
    body = (FIXTURES / "alertmanager/firing.json").read_bytes()
    url = f"/api/v1/integrations/{created.integration.key}/alertmanager"
    ok = client.post(
        url,
        content=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {created.secret}"},
    )
    assert ok.status_code == 202
    assert [a["outcome"] for a in ok.json()["alerts"]] == ["new"]
    denied = client.post(url, content=body, headers={"Content-Type": "application/json"})
    assert (denied.status_code, denied.json()["code"]) == (401, "invalid_integration_secret")
    wrong = client.post(
        f"/api/v1/integrations/{created.integration.key}/nagios",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert wrong.status_code == 404


def test_cloudwatch_accepts_sns_text_plain_and_queues_the_confirmation(client: TestClient) -> None:
    created = make_integration(IntegrationType.CLOUDWATCH)
    body = (FIXTURES / "cloudwatch/subscription_confirmation.json").read_bytes()
    url = f"/api/v1/integrations/{created.integration.key}/cloudwatch?token={created.secret}"
    response = client.post(url, content=body, headers={"Content-Type": "text/plain; charset=UTF-8"})
    assert response.status_code == 202
    assert response.json()["alerts"] == []
    assert response.json()["note"] == "subscription confirmation queued"


def test_pagerduty_enqueue_answers_like_pagerduty(client: TestClient) -> None:
    created = make_integration(IntegrationType.PAGERDUTY)
    event = json.loads((FIXTURES / "pagerduty/trigger.json").read_text())
    event["routing_key"] = created.secret
    ok = client.post("/v2/enqueue", json=event)
    assert (ok.status_code, ok.json()) == (
        202,
        {"status": "success", "message": "Event processed", "dedup_key": "samplekeyhere"},
    )
    resolve = client.post(
        "/v2/enqueue",
        json={
            "routing_key": created.secret,
            "event_action": "resolve",
            "dedup_key": "samplekeyhere",
        },
    )
    assert resolve.status_code == 202
    bad = client.post(
        "/v2/enqueue",
        json={
            "routing_key": created.secret,
            "event_action": "trigger",
            "payload": {"summary": "x", "source": "y"},
        },
    )
    assert (bad.status_code, bad.json()) == (
        400,
        {
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": ["'payload.severity' must be one of critical, error, warning, info"],
        },
    )
    unknown = client.post("/v2/enqueue", json={**event, "routing_key": "not-a-key"})
    assert (unknown.status_code, unknown.json()["errors"]) == (400, ["Invalid routing key"])


def test_integration_admin_and_alert_search_over_the_api(client: TestClient) -> None:
    writer = bearer(issue_key(Scope.INTEGRATIONS_WRITE, Scope.ALERTS_READ))
    service_id = make_service("Search")
    created = client.post(
        "/api/v1/integrations",
        json={"name": "prom", "type": "generic", "service_id": service_id},
        headers=writer,
    )
    assert created.status_code == 201
    secret, integration = created.json()["secret"], created.json()["integration"]
    assert "X-OnCall-Signature" in created.json()["curl_example"]
    for i in range(3):
        assert (
            post_generic(
                client, integration["key"], secret, {"title": f"alert {i}", "dedup_key": f"k{i}"}
            ).status_code
            == 202
        )
    page = client.get(
        "/api/v1/alerts", params={"limit": 2, "service_id": service_id}, headers=writer
    ).json()
    assert [a["title"] for a in page["items"]] == ["alert 2", "alert 1"]
    rest = client.get(
        "/api/v1/alerts", params={"limit": 2, "cursor": page["next_cursor"]}, headers=writer
    ).json()
    assert ([a["title"] for a in rest["items"]], rest["next_cursor"]) == (["alert 0"], None)
    found = client.get("/api/v1/alerts", params={"q": "alert 1"}, headers=writer).json()
    assert [a["title"] for a in found["items"]] == ["alert 1"]
    log = client.get(f"/api/v1/integrations/{integration['id']}/deliveries", headers=writer).json()
    assert [d["outcome"] for d in log] == ["accepted"] * 3
    assert all("x-oncall-signature" not in d["headers"] for d in log)
    test = client.post(f"/api/v1/integrations/{integration['id']}/test", headers=writer)
    assert (test.status_code, [a["outcome"] for a in test.json()["alerts"]]) == (202, ["new"])
    rotated = client.post(
        f"/api/v1/integrations/{integration['id']}/rotate-secret", headers=writer
    ).json()
    assert rotated["secret"] != secret
    assert rotated["integration"]["previous_secret_expires_at"] is not None
    reader_only = bearer(issue_key(Scope.INTEGRATIONS_READ))
    denied = client.post(
        "/api/v1/integrations",
        json={"name": "x", "type": "generic", "service_id": service_id},
        headers=reader_only,
    )
    assert (denied.status_code, denied.json()["code"]) == (403, "insufficient_scope")


def test_openapi_documents_the_public_contract(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {
        "/api/v1/integrations/{key}/alerts",
        "/api/v1/integrations/{key}/{provider}",
        "/v2/enqueue",
    } <= set(paths)
    generic = paths["/api/v1/integrations/{key}/alerts"]["post"]
    assert {"202", "401", "404", "413", "415", "422", "503"} <= set(generic["responses"])
