"""Initial schema: keys, buckets, objects, uploads, parts, blobs.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

KeyText = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "access_keys",
        sa.Column("access_key_id", sa.String(64), primary_key=True),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("is_root", sa.Boolean, nullable=False),
    )
    op.create_table(
        "buckets",
        sa.Column("bucket_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("storage_class", sa.String(32), nullable=False),
        sa.Column("acl", sa.String(32), nullable=False),
        sa.Column("data_redundancy", sa.String(8), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
    )
    op.create_table(
        "blobs",
        sa.Column("blob_id", sa.String(32), primary_key=True),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_blobs_state_created", "blobs", ["state", "created_ms"])
    op.create_table(
        "objects",
        sa.Column("bucket_id", sa.Integer, sa.ForeignKey("buckets.bucket_id"), primary_key=True),
        sa.Column("key", KeyText, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("etag", sa.String(48), nullable=False),
        sa.Column("crc64", sa.String(20), nullable=False),
        sa.Column("content_md5", sa.String(24), nullable=True),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("user_meta", sa.JSON, nullable=False),
        sa.Column("storage_class", sa.String(32), nullable=False),
        sa.Column("object_type", sa.String(16), nullable=False),
        sa.Column("last_modified_ms", sa.BigInteger, nullable=False),
        sa.Column("blob_id", sa.String(32), nullable=True),
        sa.Column("upload_id", sa.String(32), nullable=True),
    )
    op.create_table(
        "uploads",
        sa.Column("upload_id", sa.String(32), primary_key=True),
        sa.Column("bucket_id", sa.Integer, sa.ForeignKey("buckets.bucket_id"), nullable=False),
        sa.Column("key", KeyText, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("initiated_ms", sa.BigInteger, nullable=False),
        sa.Column("last_part_ms", sa.BigInteger, nullable=True),
        sa.Column("initiator", sa.String(64), nullable=False),
        sa.Column("storage_class", sa.String(32), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("user_meta", sa.JSON, nullable=False),
        sa.Column("completed_parts", sa.Text, nullable=True),
        sa.Column("etag", sa.String(48), nullable=True),
        sa.Column("crc64", sa.String(20), nullable=True),
        sa.Column("size", sa.BigInteger, nullable=True),
    )
    op.create_index(
        "ix_uploads_active_listing",
        "uploads",
        ["bucket_id", "key", "upload_id"],
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    )
    op.create_table(
        "parts",
        sa.Column("upload_id", sa.String(32), primary_key=True),
        sa.Column("part_number", sa.Integer, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("etag", sa.String(32), nullable=False),
        sa.Column("crc64", sa.String(20), nullable=False),
        sa.Column("blob_id", sa.String(32), nullable=False),
        sa.Column("last_modified_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("parts", "uploads", "objects", "blobs", "buckets", "access_keys"):
        op.drop_table(table)
