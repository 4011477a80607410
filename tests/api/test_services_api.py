"""/api/v1/services over HTTP: CRUD, dependencies, impact; RFC 9457 errors change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.apikeys.scopes import Scope
from backend.audit.models import AuditEntry
from backend.catalog import queries
from backend.catalog import service as catalog
from backend.catalog.models import Service
from backend.core.db import unit_of_work
from tests.api.conftest import bearer, issue_key
from tests.api.test_api_keys import assert_problem
from tests.factories.escalation import make_policy


def snapshot() -> tuple[list[tuple[Any, ...]], list[tuple[int, int]], int]:
    """Services, edges and the number of audit rows: refusals must leave all three alone."""
    with unit_of_work() as uow:
        services = [
            (s.id, s.name, s.team_id, s.escalation_policy_id, s.tags, s.links, s.description)
            for s in uow.session.exec(select(Service).order_by(Service.id))  # type: ignore[arg-type]
        ]
        audit_count = len(list(uow.session.exec(select(AuditEntry))))
        return services, sorted(queries.all_edges(uow.session)), audit_count


@pytest.fixture
def write(client: TestClient) -> dict[str, str]:
    return bearer(issue_key(Scope.SERVICES_WRITE, Scope.TEAMS_WRITE))


@pytest.fixture
def team_id(client: TestClient, write: dict[str, str]) -> int:
    response = client.post("/api/v1/teams", headers=write, json={"name": "Payments"})
    assert response.status_code == 201
    return int(response.json()["id"])


def create(client: TestClient, headers: dict[str, str], team_id: int, name: str) -> int:
    response = client.post(
        "/api/v1/services", headers=headers, json={"name": name, "team_id": team_id}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def test_service_lifecycle(client: TestClient, write: dict[str, str], team_id: int) -> None:
    created = client.post(
        "/api/v1/services",
        headers=write,
        json={
            "name": "Payments API",
            "team_id": team_id,
            "tags": ["Tier:1"],
            "links": [{"title": "Dashboard", "url": "https://grafana.example.org/d/pay"}],
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    sid = body["id"]
    assert {k: body[k] for k in ("name", "slug", "team_id", "team_name", "tags", "links")} == {
        "name": "Payments API",
        "slug": "payments-api",
        "team_id": team_id,
        "team_name": "Payments",
        "tags": ["tier:1"],
        "links": [{"title": "Dashboard", "url": "https://grafana.example.org/d/pay"}],
    }
    assert (body["is_triage"], body["escalation_policy_id"], body["can_edit"]) == (
        False,
        None,
        True,
    )
    policy_id = make_policy(team_id)
    patched = client.patch(
        f"/api/v1/services/{sid}",
        headers=write,
        json={"description": "Charges cards", "escalation_policy_id": policy_id},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["description"], patched.json()["escalation_policy_id"]) == (
        "Charges cards",
        policy_id,
    )
    cleared = client.patch(
        f"/api/v1/services/{sid}", headers=write, json={"escalation_policy_id": None}
    )
    assert cleared.json()["escalation_policy_id"] is None
    read = bearer(issue_key(Scope.SERVICES_READ))
    listed = client.get("/api/v1/services?tag=tier:1&q=pay", headers=read)
    assert [s["name"] for s in listed.json()] == ["Payments API"]
    assert client.get(f"/api/v1/services?team_id={team_id + 1}", headers=read).json() == []
    assert client.get(f"/api/v1/services/{sid}", headers=read).json()["name"] == "Payments API"
    assert client.delete(f"/api/v1/services/{sid}", headers=write).status_code == 204
    assert_problem(client.get(f"/api/v1/services/{sid}", headers=read), 404, "not_found")
    with unit_of_work() as uow:
        actions = [
            e.action
            for e in uow.session.exec(
                select(AuditEntry)
                .where(AuditEntry.target_type == "service")
                .order_by(AuditEntry.id)  # type: ignore[arg-type]
            )
        ]
    assert actions == [
        "catalog.service.created",
        "catalog.service.updated",
        "catalog.service.updated",
        "catalog.service.created",  # the triage service, made by the first graph change
        "catalog.service.deleted",
    ]


def test_scopes_are_enforced(client: TestClient, write: dict[str, str], team_id: int) -> None:
    sid = create(client, write, team_id, "Checkout")
    read_only = bearer(issue_key(Scope.SERVICES_READ))
    before = snapshot()
    for response in (
        client.post("/api/v1/services", headers=read_only, json={"name": "X1", "team_id": 1}),
        client.patch(f"/api/v1/services/{sid}", headers=read_only, json={"name": "Y1"}),
        client.delete(f"/api/v1/services/{sid}", headers=read_only),
        client.post(f"/api/v1/services/{sid}/dependencies/{sid}", headers=read_only),
    ):
        assert_problem(response, 403, "insufficient_scope")
    teams_only = bearer(issue_key(Scope.TEAMS_READ))
    assert_problem(client.get("/api/v1/services", headers=teams_only), 403, "insufficient_scope")
    assert_problem(client.get("/api/v1/services"), 401, "invalid_api_key")
    after = snapshot()
    assert (after[0], after[1]) == (before[0], before[1])


@pytest.mark.parametrize(
    ("_case", "payload", "locs"),
    [
        ("missing fields", {}, [["body", "name"], ["body", "team_id"]]),
        (
            "bad link and tag",
            {
                "name": "Checkout",
                "team_id": 1,
                "tags": ["No Spaces"],
                "links": [{"title": "Runbook", "url": "javascript:alert(1)"}],
            },
            [["body", "tags"], ["body", "links", 0, "url"]],
        ),
        ("unknown field", {"name": "Checkout", "team_id": 1, "owner": "x"}, [["body", "owner"]]),
        ("unknown team", {"name": "Checkout", "team_id": 999}, [["body", "team_id"]]),
        ("reserved name", {"name": "Platform triage", "team_id": 1}, [["body", "name"]]),
    ],
)
def test_invalid_create_is_422_with_field_errors_and_changes_nothing(
    client: TestClient,
    write: dict[str, str],
    team_id: int,
    _case: str,
    payload: dict[str, Any],
    locs: list[list[Any]],
) -> None:
    assert team_id == 1
    before = snapshot()
    body = assert_problem(
        client.post("/api/v1/services", headers=write, json=payload), 422, "validation_failed"
    )
    assert [e["loc"] for e in body["errors"]] == locs
    assert snapshot() == before


def test_invalid_update_changes_nothing(
    client: TestClient, write: dict[str, str], team_id: int
) -> None:
    sid = create(client, write, team_id, "Checkout")
    create(client, write, team_id, "Cart")
    before = snapshot()
    body = assert_problem(
        client.patch(
            f"/api/v1/services/{sid}",
            headers=write,
            json={"name": None, "links": [{"title": "x", "url": "ftp://x.org"}], "tags": ["ok"]},
        ),
        422,
        "validation_failed",
    )
    assert [e["loc"] for e in body["errors"]] == [["body", "name"], ["body", "links", 0, "url"]]
    assert_problem(
        client.patch(f"/api/v1/services/{sid}", headers=write, json={"team_id": None}),
        422,
        "validation_failed",
    )
    assert_problem(
        client.patch(f"/api/v1/services/{sid}", headers=write, json={"name": "Cart"}),
        409,
        "already_exists",
    )
    assert_problem(
        client.patch("/api/v1/services/999", headers=write, json={"name": "Nope"}),
        404,
        "not_found",
    )
    assert snapshot() == before


def test_dependencies_and_impact(client: TestClient, write: dict[str, str], team_id: int) -> None:
    checkout = create(client, write, team_id, "Checkout")
    api = create(client, write, team_id, "Payments API")
    db = create(client, write, team_id, "Postgres")
    added = client.post(f"/api/v1/services/{checkout}/dependencies/{api}", headers=write)
    assert added.status_code == 201, added.text
    assert [r["name"] for r in added.json()["depends_on"]] == ["Payments API"]
    assert (
        client.post(f"/api/v1/services/{api}/dependencies/{db}", headers=write).status_code == 201
    )
    before = snapshot()
    cycle = assert_problem(
        client.post(f"/api/v1/services/{db}/dependencies/{checkout}", headers=write),
        409,
        "dependency_cycle",
    )
    assert cycle["detail"] == (
        "Adding this dependency would create a cycle: "
        "Postgres → Checkout → Payments API → Postgres."
    )
    self_dep = assert_problem(
        client.post(f"/api/v1/services/{db}/dependencies/{db}", headers=write),
        422,
        "validation_failed",
    )
    assert self_dep["errors"] == [
        {
            "loc": ["path", "depends_on_id"],
            "msg": "a service cannot depend on itself",
            "type": "value_error",
        }
    ]
    assert_problem(
        client.post(f"/api/v1/services/{checkout}/dependencies/{api}", headers=write),
        409,
        "already_exists",
    )
    assert_problem(
        client.post(f"/api/v1/services/{checkout}/dependencies/999", headers=write),
        404,
        "not_found",
    )
    deleting = assert_problem(
        client.delete(f"/api/v1/services/{db}", headers=write), 409, "service_has_dependents"
    )
    assert deleting["detail"] == (
        "'Postgres' cannot be deleted while these services depend on it: Payments API. "
        "Remove those dependencies first."
    )
    triage = catalog.ensure_triage_service()
    assert_problem(client.delete(f"/api/v1/services/{triage}", headers=write), 409, "conflict")
    assert snapshot() == before

    read = bearer(issue_key(Scope.SERVICES_READ))
    impact = client.get(f"/api/v1/services/{db}/impact", headers=read)
    assert impact.status_code == 200, impact.text
    data = impact.json()
    assert data["service"]["name"] == "Postgres"
    assert data["upstream"] == []
    assert [(n["name"], n["depth"]) for n in data["downstream"]] == [
        ("Payments API", 1),
        ("Checkout", 2),
    ]
    assert data["layers"] == [[db], [api], [checkout]]
    assert data["edges"] == [
        {"service_id": checkout, "depends_on_id": api},
        {"service_id": api, "depends_on_id": db},
    ]
    shallow = client.get(f"/api/v1/services/{checkout}/impact?max_depth=1", headers=read).json()
    assert [(n["name"], n["depth"]) for n in shallow["upstream"]] == [("Payments API", 1)]
    assert_problem(
        client.get(f"/api/v1/services/{db}/impact?max_depth=0", headers=read),
        422,
        "validation_failed",
    )

    removed = client.delete(f"/api/v1/services/{checkout}/dependencies/{api}", headers=write)
    assert removed.status_code == 200
    assert removed.json()["depends_on"] == []
    assert_problem(
        client.delete(f"/api/v1/services/{checkout}/dependencies/{api}", headers=write),
        404,
        "not_found",
    )


def test_openapi_documents_the_service_routes(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert sorted(p for p in paths if p.startswith("/api/v1/services")) == [
        "/api/v1/services",
        "/api/v1/services/{service_id}",
        "/api/v1/services/{service_id}/dependencies/{depends_on_id}",
        "/api/v1/services/{service_id}/impact",
    ]
