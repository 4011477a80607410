"""``/api/v1/users/{id}/contact-methods|notification-rules|quiet-hours`` with API keys: what a
migration script imports. Methods still need their owner's code; errors change nothing."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from backend.apikeys.scopes import Scope
from backend.notifications import dispatch
from backend.notifications.dispatch import DeliverOutcome
from tests.api.conftest import bearer, issue_key
from tests.api.test_api_keys import assert_problem
from tests.factories.notifications import drain_paging
from tests.service.test_notifications import World, outbox, world  # world: the fixture, reused

__all__ = ["world"]


def _code_sent(world: World) -> str:
    """Deliver the verification message just queued; the code it carried (outbox)."""
    _, (sent,) = drain_paging(world.broker)
    assert dispatch.deliver(sent.notification_id) is DeliverOutcome.DONE
    return outbox()[-1][3].split("code is ")[1][:6]


def _listed(client: TestClient, path: str, headers: dict[str, str]) -> Any:
    got = client.get(path, headers=headers)
    assert got.status_code == 200, got.text
    return got.json()


def test_a_migration_script_imports_methods_rules_and_quiet_hours(
    client: TestClient, world: World
) -> None:
    ann = world.crew.id("ann")
    base, headers = f"/api/v1/users/{ann}", bearer(issue_key(Scope.USERS_WRITE))
    added = client.post(
        f"{base}/contact-methods",
        headers=headers,
        json={"kind": "sms", "address": "+1 555 000 1234", "label": "mobile"},
    )
    assert added.status_code == 201, added.text
    method = added.json()
    assert (method["user_id"], method["kind"], method["verified"]) == (ann, "sms", False)
    assert method["address"] == "+15550001234"  # stored in E.164, as the providers take it
    assert method["verification_pending"] is True
    code = _code_sent(world)
    wrong = "000000" if code != "000000" else "111111"
    refused = client.post(
        f"{base}/contact-methods/{method['id']}/verify", headers=headers, json={"code": wrong}
    )
    assert_problem(refused, 422, "validation_failed")
    verified = client.post(
        f"{base}/contact-methods/{method['id']}/verify", headers=headers, json={"code": code}
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified"] is True

    steps = [
        {"contact_method_id": method["id"], "delay_minutes": 0},
        {"channel": "email", "delay_minutes": 5},
    ]
    put = client.put(f"{base}/notification-rules/high", headers=headers, json=steps)
    assert put.status_code == 200, put.text
    assert [
        (r["urgency"], r["contact_method_id"], r["channel"], r["delay_minutes"]) for r in put.json()
    ] == [
        ("high", method["id"], None, 0),
        ("high", None, "email", 5),
    ]
    rules = _listed(client, f"{base}/notification-rules", headers)
    assert [r["id"] is not None for r in rules if r["urgency"] == "high"] == [True, True]
    assert all(r["id"] is None for r in rules if r["urgency"] == "low")  # still the defaults

    quiet = client.put(
        f"{base}/quiet-hours", headers=headers, json={"start": "22:00", "end": "07:30"}
    )
    assert quiet.status_code == 204, quiet.text
    assert _listed(client, f"{base}/quiet-hours", headers) == {"start": "22:00", "end": "07:30"}
    assert client.delete(f"{base}/quiet-hours", headers=headers).status_code == 204
    assert _listed(client, f"{base}/quiet-hours", headers) is None

    assert _listed(client, f"{base}/contact-methods", headers)[0]["verified"] is True
    removed = client.delete(f"{base}/contact-methods/{method['id']}", headers=headers)
    assert removed.status_code == 204
    assert _listed(client, f"{base}/contact-methods", headers) == []
    # The rule naming the removed method went with it.
    high = [
        r for r in _listed(client, f"{base}/notification-rules", headers) if r["urgency"] == "high"
    ]
    assert [(r["contact_method_id"], r["channel"]) for r in high] == [(None, "email")]


def test_a_fresh_code_can_be_sent_and_the_old_one_stops_working(
    client: TestClient, world: World
) -> None:
    base, headers = f"/api/v1/users/{world.crew.id('ann')}", bearer(issue_key(Scope.USERS_WRITE))
    method = client.post(
        f"{base}/contact-methods", headers=headers, json={"kind": "email", "address": "a@x.org"}
    ).json()
    first = _code_sent(world)
    again = client.post(f"{base}/contact-methods/{method['id']}/verification", headers=headers)
    assert again.status_code == 200, again.text
    second = _code_sent(world)
    if first != second:
        stale = client.post(
            f"{base}/contact-methods/{method['id']}/verify", headers=headers, json={"code": first}
        )
        assert_problem(stale, 422, "validation_failed")
    ok = client.post(
        f"{base}/contact-methods/{method['id']}/verify", headers=headers, json={"code": second}
    )
    assert ok.json()["verified"] is True


def test_reading_needs_users_read_and_changing_needs_users_write(
    client: TestClient, world: World
) -> None:
    base = f"/api/v1/users/{world.crew.id('ann')}"
    reader = bearer(issue_key(Scope.USERS_READ))
    assert _listed(client, f"{base}/contact-methods", reader) == []
    denied = client.post(
        f"{base}/contact-methods", headers=reader, json={"kind": "sms", "address": "+15550001"}
    )
    assert_problem(denied, 403, "insufficient_scope")
    assert_problem(
        client.put(f"{base}/quiet-hours", headers=reader, json={"start": "22:00", "end": "07:00"}),
        403,
        "insufficient_scope",
    )
    other = bearer(issue_key(Scope.TEAMS_READ))
    assert_problem(
        client.get(f"{base}/notification-rules", headers=other), 403, "insufficient_scope"
    )
    assert_problem(client.get(f"{base}/contact-methods"), 401, "invalid_api_key")
    assert _listed(client, f"{base}/contact-methods", reader) == []
    assert _listed(client, f"{base}/quiet-hours", reader) is None


def test_bad_input_gets_a_problem_and_changes_nothing(client: TestClient, world: World) -> None:
    ann, ben = world.crew.id("ann"), world.crew.id("ben")
    headers = bearer(issue_key(Scope.USERS_WRITE))
    base = f"/api/v1/users/{ann}"
    mine = client.post(
        f"{base}/contact-methods", headers=headers, json={"kind": "sms", "address": "+15550001"}
    ).json()
    bens = client.post(
        f"/api/v1/users/{ben}/contact-methods",
        headers=headers,
        json={"kind": "sms", "address": "+15550002"},
    ).json()
    before = {
        "methods": _listed(client, f"{base}/contact-methods", headers),
        "rules": _listed(client, f"{base}/notification-rules", headers),
    }

    # The same method twice; an address that is not a phone number; a field missing.
    again = client.post(
        f"{base}/contact-methods", headers=headers, json={"kind": "sms", "address": "+15550001"}
    )
    assert_problem(again, 409, "already_exists")
    assert_problem(
        client.post(
            f"{base}/contact-methods", headers=headers, json={"kind": "sms", "address": "x"}
        ),
        422,
        "validation_failed",
    )
    assert_problem(
        client.post(f"{base}/contact-methods", headers=headers, json={"address": "+15550003"}),
        422,
        "validation_failed",
    )
    # Ben's method addressed under Ann: not found there, and not removed.
    assert_problem(
        client.delete(f"{base}/contact-methods/{bens['id']}", headers=headers), 404, "not_found"
    )
    assert_problem(
        client.post(
            f"{base}/contact-methods/{bens['id']}/verify", headers=headers, json={"code": "123456"}
        ),
        404,
        "not_found",
    )
    # A step with both a channel and a method, a step naming Ben's method, an unknown urgency.
    both = [{"channel": "sms", "contact_method_id": mine["id"]}]
    assert_problem(
        client.put(f"{base}/notification-rules/high", headers=headers, json=both),
        422,
        "validation_failed",
    )
    foreign = [{"contact_method_id": bens["id"]}]
    assert_problem(
        client.put(f"{base}/notification-rules/high", headers=headers, json=foreign),
        422,
        "validation_failed",
    )
    assert_problem(
        client.put(f"{base}/notification-rules/urgent", headers=headers, json=[]),
        422,
        "validation_failed",
    )
    assert_problem(
        client.put(f"{base}/quiet-hours", headers=headers, json={"start": "25:00", "end": "07:00"}),
        422,
        "validation_failed",
    )
    # An unknown user, read or written.
    for response in (
        client.get("/api/v1/users/999999/contact-methods", headers=headers),
        client.get("/api/v1/users/999999/notification-rules", headers=headers),
        client.get("/api/v1/users/999999/quiet-hours", headers=headers),
        client.post(
            "/api/v1/users/999999/contact-methods",
            headers=headers,
            json={"kind": "sms", "address": "+15550009"},
        ),
        client.put("/api/v1/users/999999/notification-rules/high", headers=headers, json=[]),
        client.put(
            "/api/v1/users/999999/quiet-hours",
            headers=headers,
            json={"start": "22:00", "end": "07:00"},
        ),
    ):
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"

    assert _listed(client, f"{base}/contact-methods", headers) == before["methods"]
    assert _listed(client, f"{base}/notification-rules", headers) == before["rules"]
    assert _listed(client, f"{base}/quiet-hours", headers) is None
    assert [m["id"] for m in _listed(client, f"/api/v1/users/{ben}/contact-methods", headers)] == [
        bens["id"]
    ]
