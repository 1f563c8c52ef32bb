"""Dead letters an operator can resolve: parked records replayed or discarded; REST rejections kept.

A parked record keeps its row when it is replayed (`replayed_at`, the
message id it became) or discarded (`discarded_at`, by whom, why); a failed
replay updates its error and `last_attempt_at`. `rest_rejections` keeps what
a REST caller was refused, by route template and code, with the SHA-256 and
size of the body but never the body itself.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RESOLUTION = (
    "last_attempt_at",
    "replayed_at",
    "replayed_message_id",
    "discarded_at",
    "discarded_by",
    "discard_reason",
)


def upgrade() -> None:
    """Add the resolution columns to `parked_records`; create `rest_rejections`."""
    with op.batch_alter_table("parked_records") as batch:
        batch.add_column(sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("replayed_message_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("discarded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("discarded_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("discard_reason", sa.String(1000), nullable=True))
        batch.create_index("ix_parked_error_code", ["error_code"])
    op.create_table(
        "rest_rejections",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("caller_party", sa.String(32), nullable=True),
        sa.Column("client_id", sa.String(128), nullable=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("route", sa.String(200), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body_size", sa.BigInteger(), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
    )


def downgrade() -> None:
    """Drop `rest_rejections` and the resolution columns."""
    op.drop_table("rest_rejections")
    with op.batch_alter_table("parked_records") as batch:
        batch.drop_index("ix_parked_error_code")
        for column in reversed(_RESOLUTION):
            batch.drop_column(column)
