"""Records waiting for Kela are delivered to its inbox: their outbox destination is `inbox:kela`.

Before this revision such rows named a topic `silta.to.kela.v1` that does not
exist; the relay now knows Kela's inbox by its own destination, so rows still
pending from before must say so, or they would be sent to Kafka.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Point Kela's pending and published rows at its inbox."""
    op.execute(sa.text("UPDATE outbox SET topic = 'inbox:kela' WHERE topic = 'silta.to.kela.v1'"))


def downgrade() -> None:
    """Name the old pseudo-topic again."""
    op.execute(sa.text("UPDATE outbox SET topic = 'silta.to.kela.v1' WHERE topic = 'inbox:kela'"))
