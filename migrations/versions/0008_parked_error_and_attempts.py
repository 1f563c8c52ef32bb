"""Parked records keep their error and how often handling was tried.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add `parked_records.error_detail`, `attempts` and `reference`."""
    with op.batch_alter_table("parked_records") as table:
        table.add_column(sa.Column("error_detail", sa.String(1000), nullable=False, server_default=""))
        table.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"))
        table.add_column(sa.Column("reference", sa.String(36), nullable=True))


def downgrade() -> None:
    """Drop the columns."""
    with op.batch_alter_table("parked_records") as table:
        table.drop_column("reference")
        table.drop_column("attempts")
        table.drop_column("error_detail")
