"""Appendable objects: the ordered segments (blobs) an AppendObject object is made of.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

KeyText = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "append_segments",
        sa.Column("bucket_id", sa.Integer, sa.ForeignKey("buckets.bucket_id"), primary_key=True),
        sa.Column("key", KeyText, primary_key=True),
        sa.Column("position", sa.BigInteger, primary_key=True),
        sa.Column("blob_id", sa.String(32), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("crc64", sa.String(20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("append_segments")
