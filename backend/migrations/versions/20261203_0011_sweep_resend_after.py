"""Sweepers: when a re-sent escalation step or notification may be re-sent again.

Revision ID: 0011_sweep_resend
Revises: 0010_team_channels
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.core.db

revision: str = "0011_sweep_resend"
down_revision: str | Sequence[str] | None = "0010_team_channels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "escalation_resend_after",
                backend.core.db.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("resend_after", backend.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("resend_after")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_column("escalation_resend_after")
