"""Each message REST accepted keeps the call it came in: the request id (X-Road-Id) and the calling member.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add `messages.request_id` and `messages.calling_member` (null for messages that came over Kafka)."""
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("request_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("calling_member", sa.String(260), nullable=True))


def downgrade() -> None:
    """Drop the two columns."""
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("calling_member")
        batch.drop_column("request_id")
