"""At most one closing answer (response or cancellation) per request, even when two arrive at once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CLOSING = sa.text("message_type IN ('information-response', 'information-request-cancellation')")


def upgrade() -> None:
    """A partial unique index on the answered request's id."""
    op.create_index(
        "uq_messages_closing_answer",
        "messages",
        ["correlation_id"],
        unique=True,
        postgresql_where=_CLOSING,
        sqlite_where=_CLOSING,
    )


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("uq_messages_closing_answer", "messages")
