"""The break-glass form, the session cookie and logout, as a browser uses them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.core.actor import Actor
from backend.identity import break_glass
from tests.api.test_api_keys import assert_problem


@pytest.fixture
def account() -> break_glass.NewBreakGlassAccount:
    return break_glass.create_account(Actor.cli(), "root@example.org", "Root")


def post_login(
    client: TestClient,
    email: str,
    password: str,
    next_path: str = "/teams",
    origin: str | None = None,
) -> object:
    headers = {"origin": origin} if origin else {}
    return client.post(
        "/api/auth/break-glass",
        data={"email": email, "password": password, "next": next_path},
        headers=headers,
        follow_redirects=False,
    )


def test_login_sets_a_hardened_cookie_and_me_works(
    client: TestClient, account: break_glass.NewBreakGlassAccount
) -> None:
    response = post_login(client, account.email, account.password)
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == "/teams"  # type: ignore[attr-defined]
    cookie = response.headers["set-cookie"]  # type: ignore[attr-defined]
    assert cookie.startswith("oncall_session=")
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert flag in cookie
    me = client.get("/api/auth/me")
    assert (me.status_code, me.json()["email"]) == (200, "root@example.org")


def test_failed_login_redirects_with_a_generic_code_and_no_cookie(
    client: TestClient, account: break_glass.NewBreakGlassAccount
) -> None:
    wrong = post_login(client, account.email, "nope")
    unknown = post_login(client, "ghost@example.org", "nope")
    for response in (wrong, unknown):
        assert response.status_code == 303  # type: ignore[attr-defined]
        assert response.headers["location"] == (  # type: ignore[attr-defined]
            "/login?error=invalid_credentials&next=%2Fteams"
        )
        assert "set-cookie" not in response.headers  # type: ignore[attr-defined]
    assert_problem(client.get("/api/auth/me"), 401, "session_expired")


def test_lockout_redirects_with_rate_limited_and_retry_after(
    client: TestClient, account: break_glass.NewBreakGlassAccount
) -> None:
    for _ in range(3):
        post_login(client, account.email, "nope")
    response = post_login(client, account.email, account.password)
    assert response.headers["location"].startswith("/login?error=rate_limited")  # type: ignore[attr-defined]
    assert int(response.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    assert "set-cookie" not in response.headers  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "target", ["https://evil.example/x", "//evil.example", "/\\evil.example", "javascript:1"]
)
def test_next_cannot_redirect_off_site(
    client: TestClient, account: break_glass.NewBreakGlassAccount, target: str
) -> None:
    response = post_login(client, account.email, account.password, next_path=target)
    assert response.headers["location"] == "/"  # type: ignore[attr-defined]


def test_cross_site_form_post_is_refused(
    client: TestClient, account: break_glass.NewBreakGlassAccount
) -> None:
    response = post_login(client, account.email, account.password, origin="https://evil.example")
    assert_problem(response, 403, "permission_denied")
    assert "set-cookie" not in response.headers  # type: ignore[attr-defined]


def test_logout_revokes_the_session(
    client: TestClient, account: break_glass.NewBreakGlassAccount
) -> None:
    post_login(client, account.email, account.password)
    token = client.cookies.get("oncall_session")
    assert token
    response = client.post("/api/auth/logout", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    client.cookies.set("oncall_session", token)  # a stolen copy of the cookie is dead too
    assert_problem(client.get("/api/auth/me"), 401, "session_expired")
