"""Bucket lifecycle configurations.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bucket_lifecycle",
        sa.Column("bucket_id", sa.Integer, sa.ForeignKey("buckets.bucket_id"), primary_key=True),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bucket_lifecycle")
