"""Cases the schemathesis run found (tests/api/test_openapi_fuzz.py), kept as plain examples."""

from __future__ import annotations

from fastapi.testclient import TestClient

from backend.apikeys.scopes import Scope
from tests.api.conftest import bearer, issue_key

PROBLEM = "application/problem+json"


def test_metrics_ending_in_year_one_is_a_422_not_a_crash(client: TestClient) -> None:
    answer = client.get(
        "/api/v1/incidents/metrics",
        params={"end": "0001-01-01T00:06:01Z"},
        headers=bearer(issue_key(Scope.INCIDENTS_READ)),
    )
    assert (answer.status_code, answer.headers["content-type"]) == (422, PROBLEM)
    assert answer.json()["errors"][0]["loc"] == ["query", "end"]


def test_a_date_that_leaves_the_calendar_in_utc_is_a_422_not_a_crash(client: TestClient) -> None:
    answer = client.get(
        "/api/v1/audit",
        params={"since": "0001-01-01T00:00:05+00:05"},
        headers=bearer(issue_key(Scope.AUDIT_READ)),
    )
    assert (answer.status_code, answer.headers["content-type"]) == (422, PROBLEM)


def test_an_id_past_64_bits_is_a_422_not_a_crash(client: TestClient) -> None:
    answer = client.get(
        "/api/v1/teams/515374051329979382297010372608",
        headers=bearer(issue_key(Scope.TEAMS_READ)),
    )
    assert (answer.status_code, answer.headers["content-type"]) == (422, PROBLEM)


def test_every_operation_documents_its_errors_as_problems(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert "Problem" in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        if path.startswith("/api/health/"):
            continue
        for method, operation in operations.items():
            documented = operation["responses"]
            assert {"401", "404", "422"} <= set(documented), (method, path)
            assert "application/problem+json" in documented["422"]["content"], (method, path)
