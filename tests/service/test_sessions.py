"""Server-side sessions: expiry, sliding, revocation, deactivated users."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from backend.audit.models import AuditEntry
from backend.core import events
from backend.core.actor import Actor
from backend.core.db import unit_of_work
from backend.core.secrets import sha256_hex
from backend.identity import queries, sessions
from backend.identity.errors import SessionExpired
from backend.identity.models import User, UserSession
from tests.factories.events import RecordingBus
from tests.factories.identity import make_user

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def open_for(user: User) -> str:
    with unit_of_work() as uow:
        return sessions.open_session(
            uow, uow.session.merge(user), method="test", ip="1.2.3.4", user_agent="ua"
        )


def stored(token: str) -> UserSession:
    with unit_of_work() as uow:
        record = queries.session_by_hash(uow.session, sha256_hex(token))
        assert record is not None
        return record


def test_only_the_hash_is_stored() -> None:
    user = make_user()
    token = open_for(user)
    with unit_of_work() as uow:
        rows = list(uow.session.exec(select(UserSession)))
    assert [r.token_hash for r in rows] == [sha256_hex(token)]
    assert len(token) >= 43


@pytest.mark.parametrize("token", ["", "nope", "x" * 43])
def test_unknown_tokens_are_refused(token: str) -> None:
    with pytest.raises(SessionExpired) as info:
        sessions.resolve(token)
    assert info.value.status == 401


def test_session_expires_after_ttl_without_activity() -> None:
    user = make_user()
    with time_machine.travel(START, tick=False) as clock:
        token = open_for(user)
        clock.shift(timedelta(hours=11, minutes=59))
        assert sessions.is_valid(token) is True
        clock.shift(timedelta(minutes=2))
        assert sessions.is_valid(token) is False
        with pytest.raises(SessionExpired):
            sessions.resolve(token)


def test_activity_near_expiry_slides_the_session() -> None:
    user = make_user()
    with time_machine.travel(START, tick=False) as clock:
        token = open_for(user)
        clock.shift(timedelta(hours=2))
        sessions.resolve(token)  # far from expiry: not extended
        assert stored(token).expires_at == START + timedelta(hours=12)
        clock.shift(timedelta(hours=9, minutes=30))  # 30 minutes left
        sessions.resolve(token)
        assert stored(token).expires_at == START + timedelta(hours=23, minutes=30)
        clock.shift(timedelta(hours=5))
        assert sessions.is_valid(token) is True


def test_logout_revokes_only_that_session() -> None:
    user = make_user()
    first, second = open_for(user), open_for(user)
    sessions.close_session(first, sessions.actor_for(user))
    assert sessions.is_valid(first) is False
    assert sessions.is_valid(second) is True


def test_revoke_all_ends_every_session_audits_and_announces() -> None:
    recorder = RecordingBus()
    events.set_bus(recorder)
    user, other = make_user(), make_user()
    tokens = [open_for(user), open_for(user)]
    kept = open_for(other)
    with unit_of_work() as uow:
        count = sessions.revoke_all(uow, Actor.system("idp"), uow.session.merge(user), reason="t")
    assert count == 2
    assert [sessions.is_valid(t) for t in tokens] == [False, False]
    assert sessions.is_valid(kept) is True
    with unit_of_work() as uow:
        entry = uow.session.exec(select(AuditEntry)).one()
    assert (entry.action, entry.severity, entry.diff) == (
        "identity.session.revoked_all",
        "HIGH",
        {"reason": "t", "sessions": 2},
    )
    assert "identity.sessions.revoked" in recorder.names()


def test_deactivated_user_loses_access() -> None:
    user = make_user()
    token = open_for(user)
    with unit_of_work() as uow:
        row = uow.session.get(User, user.id)
        assert row is not None
        row.is_active = False
        uow.session.add(row)
    assert sessions.is_valid(token) is False


def test_purge_removes_long_dead_sessions_only() -> None:
    user = make_user()
    with time_machine.travel(START, tick=False) as clock:
        old = open_for(user)
        clock.shift(timedelta(days=40))
        fresh = open_for(user)
        assert sessions.purge_expired() == 1
    with unit_of_work() as uow:
        hashes = [r.token_hash for r in uow.session.exec(select(UserSession))]
    assert hashes == [sha256_hex(fresh)]
    assert sha256_hex(old) not in hashes
