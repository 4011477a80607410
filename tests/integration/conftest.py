"""Fixtures for the integration suite: own PostgreSQL databases, own Redis databases, dead ports.

They live in ``tests/support/databases.py`` (the reliability suite uses them too); importing
them here makes them fixtures of this suite, and keeps ``from tests.integration.conftest
import migrate`` working.
"""

from __future__ import annotations

from tests.support.databases import (
    admin_connection,
    alembic_config_for,
    closed_port,
    migrate,
    migrated_pg_database,
    pg_database,
    redis_own_db,
)

__all__ = [
    "admin_connection",
    "alembic_config_for",
    "closed_port",
    "migrate",
    "migrated_pg_database",
    "pg_database",
    "redis_own_db",
]
