"""Alembic migrations: empty database → head on SQLite and PostgreSQL, no drift, down and up again.

The fast suite builds tables with ``metadata.create_all``; production builds them with these
migrations. This checks the two agree on both engines we ship.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import backend.models  # noqa: F401  # registers every table on the metadata
from backend.core.db import build_engine, metadata
from tests.integration.conftest import alembic_config_for

pytestmark = pytest.mark.integration


def _expected_tables() -> set[str]:
    # Every model's table plus Alembic's bookkeeping: a model without a migration (or a
    # migration without a model) shows up here by name, not only as a drift entry.
    return {*metadata.tables, "alembic_version"}


def _head(url: str) -> str:
    heads = ScriptDirectory.from_config(alembic_config_for(url)).get_heads()
    assert len(heads) == 1, f"migration history has several heads: {heads}"
    return heads[0]


def _state(url: str) -> tuple[set[str], str | None, list[Any]]:
    """Tables, the current revision, and the differences between models and the database."""
    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "render_as_batch": conn.dialect.name == "sqlite",
                },
            )
            revision = context.get_current_revision()
            diff = compare_metadata(context, metadata) if revision is not None else []
    finally:
        engine.dispose()
    return tables, revision, diff


def _assert_round_trip(url: str) -> None:
    head = _head(url)
    config = alembic_config_for(url)

    command.upgrade(config, "head")
    tables, revision, diff = _state(url)
    assert tables == _expected_tables()
    assert revision == head
    assert diff == [], f"models and migrations disagree: {diff}"

    command.downgrade(config, "base")
    tables, revision, _ = _state(url)
    assert tables == {"alembic_version"}
    assert revision is None

    command.upgrade(config, "head")
    tables, revision, diff = _state(url)
    assert tables == _expected_tables()
    assert revision == head
    assert diff == [], f"models and migrations disagree after down/up: {diff}"


def test_sqlite_upgrade_downgrade_upgrade_without_drift(tmp_path: Path) -> None:
    _assert_round_trip(f"sqlite:///{tmp_path / 'migrations.db'}")


def test_postgres_upgrade_downgrade_upgrade_without_drift(pg_database: str) -> None:
    _assert_round_trip(pg_database)


def test_history_is_linear_with_a_single_head(tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(alembic_config_for(f"sqlite:///{tmp_path / 'x.db'}"))
    heads = script.get_heads()
    bases = script.get_bases()
    assert len(heads) == 1
    assert len(bases) == 1
    # Every revision has at most one parent: no merge points, no branches.
    revisions = list(script.walk_revisions())
    assert all(rev.down_revision is None or isinstance(rev.down_revision, str) for rev in revisions)
    assert revisions[0].revision == heads[0]
    assert revisions[-1].revision == bases[0]
