"""/api/v1/teams and /api/v1/users over HTTP with API keys; RFC 9457 errors change nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from backend.apikeys.scopes import Scope
from backend.core.actor import Actor
from backend.teams import service as teams
from tests.api.conftest import bearer, issue_key
from tests.api.test_api_keys import assert_problem
from tests.factories.identity import make_user


def test_team_lifecycle_over_the_api(client: TestClient) -> None:
    headers = bearer(issue_key(Scope.TEAMS_WRITE, Scope.USERS_READ))
    alice = make_user("Alice", email="alice@example.org")
    created = client.post(
        "/api/v1/teams",
        headers=headers,
        json={"name": "Payments", "org_tags": ["org:commerce"], "tech_tags": ["Stripe"]},
    )
    assert created.status_code == 201, created.text
    team = created.json()
    assert (team["name"], team["slug"], team["tech_tags"], team["members"]) == (
        "Payments",
        "payments",
        ["stripe"],
        [],
    )
    assert team["health_warnings"] == [
        "Only 0 responders: a sustainable rotation needs at least 3.",
        "No team admin: nobody can change this team but platform admins.",
    ]
    added = client.post(
        f"/api/v1/teams/{team['id']}/members",
        headers=headers,
        json={"user_id": alice.id, "role": "TEAM_ADMIN"},
    )
    assert added.status_code == 201
    assert [(m["email"], m["role"]) for m in added.json()["members"]] == [
        ("alice@example.org", "TEAM_ADMIN")
    ]
    demote = client.put(
        f"/api/v1/teams/{team['id']}/members/{alice.id}?role=RESPONDER", headers=headers
    )
    assert_problem(demote, 409, "last_team_admin")
    bob = make_user("Bob", email="bob@example.org")
    client.post(f"/api/v1/teams/{team['id']}/members", headers=headers, json={"user_id": bob.id})
    changed = client.put(
        f"/api/v1/teams/{team['id']}/members/{bob.id}?role=OBSERVER", headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert [(m["name"], m["role"]) for m in changed.json()["members"]] == [
        ("Alice", "TEAM_ADMIN"),
        ("Bob", "OBSERVER"),
    ]
    listed = client.get("/api/v1/teams?tag=stripe", headers=headers).json()
    assert [(t["name"], t["member_count"]) for t in listed] == [("Payments", 2)]
    users = client.get("/api/v1/users?q=alice", headers=headers).json()
    assert [u["email"] for u in users] == ["alice@example.org"]
    assert client.delete(f"/api/v1/teams/{team['id']}", headers=headers).status_code == 204
    assert_problem(client.get(f"/api/v1/teams/{team['id']}", headers=headers), 404, "not_found")


def test_validation_errors_are_field_level_and_change_nothing(client: TestClient) -> None:
    headers = bearer(issue_key(Scope.TEAMS_WRITE))
    response = client.post(
        "/api/v1/teams", headers=headers, json={"name": "x", "org_tags": ["Bad Tag"], "x": 1}
    )
    body = assert_problem(response, 422, "validation_failed")
    assert sorted(tuple(e["loc"]) for e in body["errors"]) == [
        ("body", "name"),
        ("body", "org_tags"),
        ("body", "x"),
    ]
    assert teams.list_teams(Actor.cli()) == []


def test_malformed_json_and_bad_ids_are_problems(client: TestClient) -> None:
    headers = {**bearer(issue_key(Scope.TEAMS_WRITE)), "content-type": "application/json"}
    assert_problem(
        client.post("/api/v1/teams", headers=headers, content=b"{"), 422, "validation_failed"
    )
    assert_problem(client.get("/api/v1/teams/abc", headers=headers), 422, "validation_failed")
    assert_problem(client.get("/api/v1/nowhere", headers=headers), 404, "not_found")


def test_duplicate_team_is_409(client: TestClient) -> None:
    headers = bearer(issue_key(Scope.TEAMS_WRITE))
    assert client.post("/api/v1/teams", headers=headers, json={"name": "Core"}).status_code == 201
    response = client.post("/api/v1/teams", headers=headers, json={"name": "Core"})
    assert_problem(response, 409, "already_exists")
    assert len(teams.list_teams(Actor.cli())) == 1


def test_unknown_member_is_404(client: TestClient) -> None:
    headers = bearer(issue_key(Scope.TEAMS_WRITE))
    team_id = client.post("/api/v1/teams", headers=headers, json={"name": "Core"}).json()["id"]
    response = client.post(
        f"/api/v1/teams/{team_id}/members", headers=headers, json={"user_id": 999}
    )
    assert_problem(response, 404, "not_found")


def test_request_id_and_security_headers(client: TestClient) -> None:
    response = client.get("/api/health/live", headers={"X-Request-ID": "abcdef123456"})
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"] == "abcdef123456"
    assert response.headers["x-content-type-options"] == "nosniff"
    generated = client.get("/api/health/live", headers={"X-Request-ID": "bad id!"})
    assert len(generated.headers["x-request-id"]) == 32


def test_audit_api_lists_entries_newest_first_with_paging(client: TestClient) -> None:
    write = bearer(issue_key(Scope.TEAMS_WRITE))
    for name in ("One", "Two", "Three"):
        client.post("/api/v1/teams", headers=write, json={"name": name})
    read = bearer(issue_key(Scope.AUDIT_READ))
    page = client.get("/api/v1/audit?action=teams.&limit=2", headers=read).json()
    assert [e["target_label"] for e in page] == ["Three", "Two"]
    rest = client.get(
        f"/api/v1/audit?action=teams.&before_id={page[-1]['id']}", headers=read
    ).json()
    assert [e["target_label"] for e in rest] == ["One"]
    assert_problem(client.get("/api/v1/audit?limit=0", headers=read), 422, "validation_failed")
