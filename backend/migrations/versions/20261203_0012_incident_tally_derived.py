"""An incident's alert count and last alert time are derived from its alerts (ADR 0011).

Grouping a firing alert into an active incident no longer updates the incident row: the row
lock that update held until commit made every joiner of one incident commit after the
previous one (an identical-alert storm ran at ~700/s while new incidents ran at ~1,000/s).
Instead a joiner takes a shared transaction-scoped advisory lock on the incident and checks
that it is still active; whatever moves an incident out of the active statuses (a resolve)
takes the exclusive lock first, so it waits for joiners in flight and joiners after it see
it resolved. The counters ``incident.alert_count`` and ``incident.last_alert_at`` go: the
count and the latest ``received_at`` of the incident's firing-kind alerts replace them.

On PostgreSQL ``oncall_ingest_trigger`` (migration 0009) is replaced by the same function with
three edits (below, applied to 0009's text so the change is the whole diff); its signature is
unchanged. The namespace of the advisory lock is ``INCIDENT_LOCK_NAMESPACE``
(backend/incidents/models.py); tests/integration/test_incident_lock_pg.py checks both agree.

Revision ID: 0012_incident_tally
Revises: 0011_sweep_resend
Create Date: 2026-12-03 16:10:00
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

import backend.core.db

revision: str = "0012_incident_tally"
down_revision: str | Sequence[str] | None = "0011_sweep_resend"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literal here (a migration is a snapshot): backend/incidents/models.py has the same.
INCIDENT_LOCK_NAMESPACE = 41_001

_OPEN_OLD = """\
        INSERT INTO incident (title, severity, status, service_id, dedup_key, alert_count,
            in_maintenance, opened_at, last_alert_at, details, acknowledged_by, resolved_by,
            resolution_note, escalation_state, escalation_step)
        VALUES (p_title, p_severity, 'OPEN', p_service_id, p_dedup_key, 1, p_in_maintenance,
            p_received_at, p_received_at, '{}', '', '', '', 'none', 0)"""
_OPEN_NEW = """\
        INSERT INTO incident (title, severity, status, service_id, dedup_key,
            in_maintenance, opened_at, details, acknowledged_by, resolved_by,
            resolution_note, escalation_state, escalation_step)
        VALUES (p_title, p_severity, 'OPEN', p_service_id, p_dedup_key, p_in_maintenance,
            p_received_at, '{}', '', '', '', 'none', 0)"""
_JOIN_OLD = """\
            UPDATE incident i
            SET alert_count = i.alert_count + 1, last_alert_at = p_received_at,
                severity = CASE WHEN v_raise THEN p_severity ELSE i.severity END
            WHERE i.id = v_incident AND i.status IN ('OPEN', 'ACKNOWLEDGED');"""
_JOIN_NEW = f"""\
            -- Still active? Under a shared advisory lock joiners do not wait for each other,
            -- only for a resolve in flight (it takes the lock exclusively); the row itself is
            -- written only to raise the severity.
            PERFORM pg_advisory_xact_lock_shared({INCIDENT_LOCK_NAMESPACE}, v_incident);
            IF v_raise THEN
                UPDATE incident i SET severity = p_severity
                WHERE i.id = v_incident AND i.status IN ('OPEN', 'ACKNOWLEDGED');
            ELSE
                PERFORM 1 FROM incident i
                WHERE i.id = v_incident AND i.status IN ('OPEN', 'ACKNOWLEDGED');
            END IF;"""


def _hot_path_0009() -> ModuleType:
    path = Path(__file__).with_name("20261203_0009_ingest_hot_path.py")
    spec = importlib.util.spec_from_file_location("oncall_migration_0009", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def function_0012() -> str:
    """0009's function with the open and join edits (each must match exactly once)."""
    text: str = _hot_path_0009().FUNCTION
    for old, new in ((_OPEN_OLD, _OPEN_NEW), (_JOIN_OLD, _JOIN_NEW)):
        if text.count(old) != 1:
            raise RuntimeError("migration 0012: 0009's function text is not the expected one")
        text = text.replace(old, new)
    return text


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(function_0012())
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("alert_count")
        batch_op.drop_column("last_alert_at")


def downgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("alert_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "last_alert_at",
                backend.core.db.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
    op.execute(
        "UPDATE incident SET alert_count = (SELECT count(*) FROM alert a"
        " WHERE a.incident_id = incident.id AND a.kind = 'trigger'),"
        " last_alert_at = coalesce((SELECT max(a.received_at) FROM alert a"
        " WHERE a.incident_id = incident.id AND a.kind = 'trigger'), incident.opened_at)"
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.alter_column("alert_count", server_default=None)
        batch_op.alter_column(
            "last_alert_at",
            existing_type=backend.core.db.UTCDateTime(timezone=True),
            nullable=False,
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_hot_path_0009().FUNCTION)
