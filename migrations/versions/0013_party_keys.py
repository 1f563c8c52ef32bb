"""The organisers' (and municipalities') public keys: to verify what they sign and to encrypt to them.

Records are sealed from this revision on, so a parked record keeps its headers
too (the signature is in them); rows parked before have none.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `party_keys`; add `parked_records.headers`."""
    op.create_table(
        "party_keys",
        sa.Column("key_id", sa.String(128), primary_key=True),
        sa.Column("party", sa.String(32), nullable=False, index=True),
        sa.Column("use", sa.String(8), nullable=False),
        sa.Column("jwk", sa.Text(), nullable=False),
        sa.Column("source", sa.String(512), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    with op.batch_alter_table("parked_records") as batch:
        batch.add_column(sa.Column("headers", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop `party_keys` and the parked headers."""
    with op.batch_alter_table("parked_records") as batch:
        batch.drop_column("headers")
    op.drop_table("party_keys")
