"""Browser push (NOTIF-01): the installation's VAPID key pair (one row, private key
encrypted), and room in addresses for a browser's PushSubscription JSON (320 → 1024).

Revision ID: 0008_web_push
Revises: 0007_actions
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_web_push"
down_revision: str | Sequence[str] | None = "0007_actions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column) holding a contact method's address.
ADDRESS_COLUMNS = (
    ("contact_method", "address"),
    ("notification", "address"),
    ("outbox_message", "to"),
)


def upgrade() -> None:
    op.create_table(
        "web_push_vapid_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.String(length=100), nullable=False),
        sa.Column("private_key_sealed", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_push_vapid_key")),
    )
    for table, column in ADDRESS_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=320),
                type_=sa.String(length=1024),
                existing_nullable=False,
            )


def downgrade() -> None:
    # Narrowing fails on PostgreSQL if a stored subscription is longer than 320 characters:
    # remove the web_push contact methods (and their notifications) first.
    for table, column in ADDRESS_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.String(length=1024),
                type_=sa.String(length=320),
                existing_nullable=False,
            )
    op.drop_table("web_push_vapid_key")
