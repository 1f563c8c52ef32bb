"""Kela's inbox, each message's status history, parked records, request due dates.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create `inbox_entries`, `message_events`, `parked_records`; add `messages.due_date`."""
    op.create_table(
        "inbox_entries",
        sa.Column("seq", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(36), sa.ForeignKey("messages.message_id"), nullable=False, unique=True),
        sa.Column("recipient", sa.String(16), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("receipted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("receipt_id", sa.String(36), nullable=True),
    )
    op.create_index("ix_inbox_open", "inbox_entries", ["recipient", "seq"])
    op.create_table(
        "message_events",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(36), sa.ForeignKey("messages.message_id"), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_message_id", sa.String(36), nullable=True),
    )
    op.create_table(
        "parked_records",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("kafka_partition", sa.Integer, nullable=False),
        sa.Column("kafka_offset", sa.BigInteger, nullable=False),
        sa.Column("error_code", sa.String(64), nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=True),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("topic", "kafka_partition", "kafka_offset", name="uq_parked_position"),
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("due_date", sa.Date, nullable=True))
    op.create_index("ix_messages_correlation", "messages", ["correlation_id"])


def downgrade() -> None:
    """Drop what `upgrade` created."""
    op.drop_index("ix_messages_correlation", "messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("due_date")
    op.drop_table("parked_records")
    op.drop_table("message_events")
    op.drop_index("ix_inbox_open", "inbox_entries")
    op.drop_table("inbox_entries")
