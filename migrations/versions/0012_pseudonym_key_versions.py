"""Pseudonym key versions: a guardian mandate's principal under every live version of the pseudonym key.

Log entries and messages say which version their pseudonyms were made with in
their JSON (`pseudonym_version`; absent means version 1), so they need no new
column. A mandate must find the principal's messages under each version, and
the principal's identity code is not kept, so the pseudonym under each live
version gets a row of its own. Every mandate so far was made with version 1.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `guardian_mandate_subjects` and fill it with each mandate's version-1 pseudonym."""
    op.create_table(
        "guardian_mandate_subjects",
        sa.Column(
            "principal_ref",
            sa.String(36),
            sa.ForeignKey("guardian_mandates.principal_ref", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key_version", sa.Integer, primary_key=True),
        sa.Column("subject", sa.String(64), nullable=False),
    )
    op.create_index("ix_guardian_mandate_subjects_subject", "guardian_mandate_subjects", ["subject"])
    op.execute(
        sa.text(
            "INSERT INTO guardian_mandate_subjects (principal_ref, key_version, subject)"
            " SELECT principal_ref, 1, principal_subject FROM guardian_mandates"
        )
    )


def downgrade() -> None:
    """Drop the table (the mandates keep the pseudonym of their first import)."""
    op.drop_index("ix_guardian_mandate_subjects_subject", "guardian_mandate_subjects")
    op.drop_table("guardian_mandate_subjects")
