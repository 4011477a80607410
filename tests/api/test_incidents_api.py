"""``/api/v1/incidents`` and ``/api/v1/escalation-policies`` over HTTP with API keys."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from dramatiq.brokers.stub import StubBroker
from fastapi.testclient import TestClient

from backend.apikeys.scopes import Scope
from backend.catalog import service as catalog
from backend.catalog.schemas import ServiceCreate
from backend.ingest import integrations
from backend.ingest.models import IntegrationType
from backend.ingest.schemas import IntegrationCreate
from tests.api.conftest import bearer, issue_key
from tests.api.test_api_keys import assert_problem
from tests.factories.escalation import drain_steps, run_steps
from tests.factories.identity import actor_of
from tests.factories.ingest import send_generic
from tests.factories.schedules import make_crew, make_schedule

T0 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_policy_crud_preview_incident_lifecycle_and_problems(
    client: TestClient, stub_broker: StubBroker
) -> None:
    with time_machine.travel(T0, tick=False):
        crew = make_crew()
        schedule_id = make_schedule(crew)
        esc = bearer(issue_key(Scope.ESCALATION_WRITE))
        inc = bearer(issue_key(Scope.INCIDENTS_WRITE))
        read_only = bearer(issue_key(Scope.INCIDENTS_READ))
        created = client.post(
            "/api/v1/escalation-policies",
            headers=esc,
            json={
                "team_id": crew.team_id,
                "name": "Primary",
                "repeat": 1,
                "levels": [
                    {"timeout_minutes": 5, "targets": [{"type": "schedule", "id": schedule_id}]},
                    {"targets": [{"type": "user", "id": crew.id("admin")}]},
                ],
            },
        )
        assert created.status_code == 201, created.text
        policy = created.json()
        assert (policy["is_default"], [lv["timeout_minutes"] for lv in policy["levels"]]) == (
            True,
            [5, 30],
        )
        assert [t["name"] for t in policy["levels"][0]["targets"]] == ["Primary"]
        bad = client.post(
            "/api/v1/escalation-policies",
            headers=esc,
            json={"team_id": crew.team_id, "name": "X", "repeat": 10, "levels": []},
        )
        assert_problem(bad, 422, "validation_failed")
        service_id = catalog.create_service(
            actor_of(crew.admin), ServiceCreate(name="Db", team_id=crew.team_id)
        ).id
        shown = client.get(
            f"/api/v1/escalation-policies/preview?service_id={service_id}", headers=esc
        )
        assert [
            (s["minute"], [p["user_name"] for p in s["pages"]]) for s in shown.json()["steps"]
        ] == [
            (0.0, ["Cat"]),
            (5.0, ["Admin"]),
            (35.0, ["Cat"]),
            (40.0, ["Admin"]),
        ]
        hook = integrations.create_integration(
            actor_of(crew.admin),
            IntegrationCreate(name="G", type=IntegrationType.GENERIC, service_id=service_id),
        )
        incident_id = send_generic(hook, {"title": "down", "dedup_key": "k"}).alerts[0].incident_id
        run_steps(drain_steps(stub_broker))

        listed = client.get("/api/v1/incidents?status=OPEN&limit=10", headers=read_only)
        assert [i["id"] for i in listed.json()["items"]] == [incident_id]
        assert_problem(
            client.post(f"/api/v1/incidents/{incident_id}/acknowledge", headers=read_only),
            403,
            "insufficient_scope",
        )
        acked = client.post(f"/api/v1/incidents/{incident_id}/acknowledge", headers=inc)
        assert acked.json()["status"] == "ACKNOWLEDGED"
        again = client.post(f"/api/v1/incidents/{incident_id}/acknowledge", headers=inc)
        assert_problem(again, 409, "invalid_transition")
        in_use = client.delete(f"/api/v1/escalation-policies/{policy['id']}", headers=esc)
        assert_problem(in_use, 409, "policy_in_use")
        noted = client.post(
            f"/api/v1/incidents/{incident_id}/notes", headers=inc, json={"body": "Looking"}
        )
        assert noted.status_code == 201
        resolved = client.post(
            f"/api/v1/incidents/{incident_id}/resolve", headers=inc, json={"note": "Fixed"}
        )
        assert (resolved.json()["status"], resolved.json()["resolution_note"]) == (
            "RESOLVED",
            "Fixed",
        )
        detail = client.get(f"/api/v1/incidents/{incident_id}", headers=read_only).json()
        assert [e["kind"] for e in detail["timeline"]] == [
            "opened", "alert", "escalation_started", "escalated", "page_requested",
            "acknowledged", "note", "resolved",
        ]  # fmt: skip
        pages = client.get(f"/api/v1/incidents/{incident_id}/page-requests", headers=read_only)
        assert [(p["user_name"], p["level"]) for p in pages.json()] == [("Cat", 1)]
        bulk = client.post(
            "/api/v1/incidents/bulk",
            headers=inc,
            json={"action": "acknowledge", "incident_ids": [incident_id, 424242]},
        )
        assert [(i["ok"], i["error_code"]) for i in bulk.json()["items"]] == [
            (False, "invalid_transition"),
            (False, "not_found"),
        ]
        metrics = client.get("/api/v1/incidents/metrics", headers=read_only).json()
        assert (metrics["opened"], metrics["open_now"]) == (1, 0)
        assert_problem(client.get("/api/v1/incidents/999", headers=read_only), 404, "not_found")
        deleted = client.delete(f"/api/v1/escalation-policies/{policy['id']}", headers=esc)
        assert deleted.status_code == 204
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {
        "/api/v1/incidents",
        "/api/v1/escalation-policies/preview",
        "/api/v1/page-requests",
    } <= set(paths)
