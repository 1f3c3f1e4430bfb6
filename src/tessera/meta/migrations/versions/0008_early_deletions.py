"""Minimum storage durations: when an object was moved to its class, and the charges for
objects that left a class early.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

KeyText = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    # A plain ADD COLUMN (see 0005): objects written before this count from their last modified.
    op.add_column("objects", sa.Column("transitioned_ms", sa.BigInteger, nullable=True))
    op.create_table(
        "early_deletions",
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("bucket_id", sa.Integer, nullable=False),
        sa.Column("key", KeyText, nullable=False),
        sa.Column("storage_class", sa.String(32), nullable=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("stored_ms", sa.BigInteger, nullable=False),
        sa.Column("charged_ms", sa.BigInteger, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("billed_bytes", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_early_deletions_time", "early_deletions", ["at_ms"])


def downgrade() -> None:
    op.drop_index("ix_early_deletions_time", table_name="early_deletions")
    op.drop_table("early_deletions")
    with op.batch_alter_table("objects") as batch:
        batch.drop_column("transitioned_ms")
