"""Guardians: the mandate registry, spent guardian assertions, and each message's data subject pseudonym.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `guardian_mandates` and `spent_assertions`; add `messages.subject`."""
    op.create_table(
        "guardian_mandates",
        sa.Column("principal_ref", sa.String(36), primary_key=True),
        sa.Column("guardian_id", sa.String(64), nullable=False, index=True),
        sa.Column("principal_subject", sa.String(64), nullable=False, index=True),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("source_reference", sa.String(100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("guardian_id", "principal_subject", "valid_from", name="uq_mandate"),
    )
    op.create_table(
        "spent_assertions",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("subject", sa.String(64), nullable=True))
    op.create_index("ix_messages_subject", "messages", ["subject"])


def downgrade() -> None:
    """Drop what `upgrade` created."""
    op.drop_index("ix_messages_subject", "messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("subject")
    op.drop_table("spent_assertions")
    op.drop_table("guardian_mandates")
