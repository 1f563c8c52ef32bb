"""Each message's schema version, for tracking: a type may have two live versions side by side.

Messages stored before this revision were all validated against the 1.0 schemas
(the envelope's SchemaVersion was not read then), so they get "1.0". The server
default is dropped afterwards: every insert names the version it validated.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add `messages.schema_version`, "1.0" for the rows already there."""
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("schema_version", sa.String(16), nullable=False, server_default="1.0"))
    with op.batch_alter_table("messages") as batch:
        batch.alter_column("schema_version", server_default=None)


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("schema_version")
