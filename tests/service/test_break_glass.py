"""Break-glass accounts: CLI-only creation, limits, lockout, one generic error, HIGH audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from backend.audit.models import AuditEntry
from backend.core.actor import Actor
from backend.core.db import unit_of_work
from backend.core.errors import ErrorCode, PermissionDenied, ValidationFailed
from backend.identity import break_glass, sessions
from backend.identity.errors import InvalidCredentials, TooManyAttempts
from backend.identity.models import BreakGlassCredential, UserSession
from tests.factories.identity import actor_of, make_user

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def account() -> break_glass.NewBreakGlassAccount:
    return break_glass.create_account(Actor.cli(), "Root@Example.org", "Root")


def login(email: str, password: str, ip: str = "10.0.0.1") -> break_glass.LoginResult:
    return break_glass.login(email, password, ip=ip, user_agent="pytest")


def session_count() -> int:
    with unit_of_work() as uow:
        return len(list(uow.session.exec(select(UserSession))))


def audit_rows() -> list[tuple[str, str]]:
    with unit_of_work() as uow:
        return [
            (e.action, e.severity)
            for e in uow.session.exec(select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_only_the_cli_creates_accounts() -> None:
    admin = make_user("Admin")
    with pytest.raises(PermissionDenied):
        break_glass.create_account(actor_of(admin), "x@example.org", "X")
    with pytest.raises(PermissionDenied):
        break_glass.create_account(Actor.system(), "x@example.org", "X")


def test_password_is_stored_as_argon2_only(account: break_glass.NewBreakGlassAccount) -> None:
    with unit_of_work() as uow:
        credential = uow.session.get(BreakGlassCredential, account.user_id)
    assert credential is not None
    assert credential.password_hash.startswith("$argon2id$")
    assert account.password not in credential.password_hash
    assert len(account.password) == 24
    assert account.email == "root@example.org"


def test_login_opens_a_session_and_audits_at_high(
    account: break_glass.NewBreakGlassAccount,
) -> None:
    result = login("ROOT@example.org ", account.password)
    actor = sessions.resolve(result.token)
    assert (actor.user_id, actor.label) == (account.user_id, "root@example.org")
    assert audit_rows() == [
        ("identity.break_glass.created", "HIGH"),
        ("identity.break_glass.login_succeeded", "HIGH"),
    ]


def test_unknown_account_and_wrong_password_get_the_same_error(
    account: break_glass.NewBreakGlassAccount,
) -> None:
    with pytest.raises(InvalidCredentials) as wrong:
        login(account.email, "not-the-password")
    with pytest.raises(InvalidCredentials) as unknown:
        login("nobody@example.org", "whatever")
    assert (wrong.value.code, wrong.value.status, wrong.value.detail) == (
        unknown.value.code,
        unknown.value.status,
        unknown.value.detail,
    )
    assert wrong.value.code is ErrorCode.INVALID_CREDENTIALS
    assert session_count() == 0
    assert audit_rows()[1:] == [
        ("identity.break_glass.login_failed", "HIGH"),
        ("identity.break_glass.login_failed", "HIGH"),
    ]


def test_sso_user_without_break_glass_credential_cannot_use_the_form() -> None:
    user = make_user("Sso", email="sso@example.org")
    assert user.id is not None
    with pytest.raises(InvalidCredentials):
        login("sso@example.org", "anything")


def test_empty_input_is_a_validation_error_and_records_nothing() -> None:
    with pytest.raises(ValidationFailed):
        login("", "x")
    with pytest.raises(ValidationFailed):
        login("a@example.org", "")
    assert audit_rows() == []


def test_three_failures_in_five_minutes_lock_the_account_even_from_other_ips(
    account: break_glass.NewBreakGlassAccount,
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
            with pytest.raises(InvalidCredentials):
                login(account.email, "wrong", ip=ip)
            clock.shift(timedelta(seconds=10))
        # Locked: even the right password from a fresh IP is refused, and no session opens.
        with pytest.raises(TooManyAttempts) as locked:
            login(account.email, account.password, ip="10.9.9.9")
        assert locked.value.status == 429
        assert locked.value.retry_after == 271  # the first failure leaves the window at 5:00
        assert session_count() == 0
        clock.shift(timedelta(minutes=5))
        result = login(account.email, account.password, ip="10.9.9.9")
        assert sessions.resolve(result.token).user_id == account.user_id
    assert ("identity.break_glass.login_blocked", "HIGH") in audit_rows()


def test_five_attempts_per_account_and_ip_per_fifteen_minutes(
    account: break_glass.NewBreakGlassAccount,
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            # Successes count too: the limit is on attempts, not failures.
            login(account.email, account.password, ip="10.0.0.1")
            clock.shift(timedelta(minutes=1))
        with pytest.raises(TooManyAttempts) as limited:
            login(account.email, account.password, ip="10.0.0.1")
        assert limited.value.retry_after == 601
        # Another IP is not limited by this IP's attempts.
        login(account.email, account.password, ip="10.0.0.2")
        clock.shift(timedelta(minutes=10, seconds=1))
        login(account.email, account.password, ip="10.0.0.1")
    assert session_count() == 7


def test_unknown_accounts_are_limited_exactly_like_real_ones() -> None:
    with time_machine.travel(START, tick=False):
        for _ in range(3):
            with pytest.raises(InvalidCredentials):
                login("ghost@example.org", "x")
        with pytest.raises(TooManyAttempts):
            login("ghost@example.org", "x")


def test_recreating_resets_the_password(account: break_glass.NewBreakGlassAccount) -> None:
    again = break_glass.create_account(Actor.cli(), account.email, "Root")
    assert again.user_id == account.user_id
    assert again.password != account.password
    with pytest.raises(InvalidCredentials):
        login(account.email, account.password)
    login(account.email, again.password)
