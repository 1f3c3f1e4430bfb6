"""The usage ledger, opened with today's counter levels.

Revision ID: 0007
Revises: 0006
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_ledger",
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("bucket_id", sa.Integer, nullable=False),
        sa.Column("storage_class", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("count_delta", sa.BigInteger, nullable=False),
        sa.Column("bytes_delta", sa.BigInteger, nullable=False),
        sa.Column("billed_delta", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_usage_ledger_time", "usage_ledger", ["at_ms"])
    # History starts now: whatever is stored counts from the moment of this migration.
    op.execute(sa.text(
        "INSERT INTO usage_ledger (bucket_id, storage_class, kind, at_ms, count_delta, bytes_delta, billed_delta) "
        "SELECT bucket_id, storage_class, kind, :now, count, bytes, billed_bytes FROM usage"
    ).bindparams(now=int(time.time() * 1000)))


def downgrade() -> None:
    op.drop_table("usage_ledger")
