"""Indexes for the tracking search: messages in (accepted_at, message_id) order, overall and per party.

A party's search is "sent or received by it", so one index leads with the
sender and one with the recipient; an operator's search walks the plain one.
The case id has had its index since 0001.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_messages_accepted": ["accepted_at", "message_id"],
    "ix_messages_sender_accepted": ["sender", "accepted_at", "message_id"],
    "ix_messages_recipient_accepted": ["recipient", "accepted_at", "message_id"],
}


def upgrade() -> None:
    """Create the three search indexes."""
    for name, columns in _INDEXES.items():
        op.create_index(name, "messages", columns)


def downgrade() -> None:
    """Drop them."""
    for name in _INDEXES:
        op.drop_index(name, "messages")
