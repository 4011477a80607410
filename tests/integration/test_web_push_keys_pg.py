"""The VAPID key pair on PostgreSQL: a process that loses the race to create it waits for the
winner's commit and signs with the winner's key (there is only ever one pair)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from backend.core import db
from backend.core.settings import get_settings
from backend.notifications import vapid

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_engine(monkeypatch: pytest.MonkeyPatch, migrated_pg_database: str) -> Iterator[Engine]:
    monkeypatch.setenv("ONCALL_DATABASE__URL", migrated_pg_database)
    monkeypatch.setenv("ONCALL_SECRET_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    engine = db.build_engine(migrated_pg_database)
    db.set_engine(engine)
    yield engine
    db.set_engine(None)


def lock_waiters(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            or 0
        )


def test_the_loser_of_the_creation_race_gets_the_winners_key(pg_engine: Engine) -> None:
    loser: dict[str, str] = {}
    with db.unit_of_work() as uow:
        # The winner has inserted its pair but not committed yet.
        winner = vapid.ensure_keys(uow.session)
        thread = threading.Thread(target=lambda: loser.update(key=vapid.public_key()))
        thread.start()
        # The loser saw no row, made its own pair, and its insert now waits on ours.
        deadline = time.monotonic() + 30
        while lock_waiters(pg_engine) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert lock_waiters(pg_engine) == 1
    thread.join(timeout=30)
    assert loser == {"key": winner.public_key}
    with db.unit_of_work() as uow:
        count = uow.session.scalar(select(func.count()).select_from(vapid.VapidKey))
    assert count == 1
    assert vapid.public_key() == winner.public_key
