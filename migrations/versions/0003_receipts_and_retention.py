"""Receipt record chain (703/2023 39 §) and the body retention mark.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Seed the receipt chain's head; add `messages.purged_at`."""
    heads = sa.table(
        "audit_chain_heads",
        sa.column("chain", sa.String),
        sa.column("seq", sa.BigInteger),
        sa.column("entry_hash", sa.String),
    )
    op.bulk_insert(heads, [{"chain": "receipt", "seq": 0, "entry_hash": "0" * 64}])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Remove the receipt chain and the retention mark."""
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("purged_at")
    op.execute(sa.text("DELETE FROM audit_log WHERE chain = 'receipt'"))
    op.execute(sa.text("DELETE FROM audit_chain_heads WHERE chain = 'receipt'"))
