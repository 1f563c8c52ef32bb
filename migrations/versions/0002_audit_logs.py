"""Hash-chained disclosure and usage logs (Act 703/2023 10 §).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_GENESIS = "0" * 64


def upgrade() -> None:
    """Create the log and its chain heads (seeded, so appends only ever update them)."""
    op.create_table(
        "audit_log",
        sa.Column("id", _BigId, primary_key=True, autoincrement=True),
        sa.Column("chain", sa.String(16), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("chain", "seq", name="uq_audit_log_chain_seq"),
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])
    heads = op.create_table(
        "audit_chain_heads",
        sa.Column("chain", sa.String(16), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(heads, [{"chain": c, "seq": 0, "entry_hash": _GENESIS} for c in ("disclosure", "usage")])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("disclosure", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop the logs."""
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("disclosure")
    op.drop_table("audit_chain_heads")
    op.drop_index("ix_audit_log_subject", table_name="audit_log")
    op.drop_table("audit_log")
