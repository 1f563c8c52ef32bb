"""Attachments by claim check: stored once by SHA-256, linked to the messages that reference them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `attachments` and `message_attachments`."""
    op.create_table(
        "attachments",
        sa.Column("attachment_id", sa.String(64), primary_key=True),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=True),
        sa.Column("uploaded_by", sa.String(16), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "message_attachments",
        sa.Column("message_id", sa.String(36), sa.ForeignKey("messages.message_id"), primary_key=True),
        sa.Column("attachment_id", sa.String(64), sa.ForeignKey("attachments.attachment_id"), primary_key=True),
    )
    op.create_index("ix_message_attachments_attachment", "message_attachments", ["attachment_id"])


def downgrade() -> None:
    """Drop what `upgrade` created."""
    op.drop_index("ix_message_attachments_attachment", "message_attachments")
    op.drop_table("message_attachments")
    op.drop_table("attachments")
