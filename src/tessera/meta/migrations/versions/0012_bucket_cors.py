"""Bucket CORS rules.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bucket_cors",
        sa.Column("bucket_id", sa.Integer, sa.ForeignKey("buckets.bucket_id"), primary_key=True),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("response_vary", sa.Boolean, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bucket_cors")
