"""Per-upload part counters, filled from the parts already stored, and the indexes Part
Management pages through.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ORDERS = (("initiated", "initiated_ms"), ("parts", "part_count"), ("bytes", "part_bytes"))


def upgrade() -> None:
    op.add_column("uploads", sa.Column("part_count", sa.Integer, nullable=False, server_default="0"))
    op.add_column("uploads", sa.Column("part_bytes", sa.BigInteger, nullable=False, server_default="0"))
    op.add_column("uploads", sa.Column("part_uploaded_byte_ms", sa.Float, nullable=False, server_default="0"))
    # Count once what active uploads hold now; from here on the writes keep the counters.
    op.execute("""
        UPDATE uploads SET
            part_count = (SELECT COUNT(*) FROM parts WHERE parts.upload_id = uploads.upload_id),
            part_bytes = (SELECT COALESCE(SUM(size), 0) FROM parts WHERE parts.upload_id = uploads.upload_id),
            part_uploaded_byte_ms = (SELECT COALESCE(SUM(CAST(size AS DOUBLE PRECISION) * last_modified_ms), 0)
                                     FROM parts WHERE parts.upload_id = uploads.upload_id)
        WHERE state = 'active'
    """)
    for name, column in ORDERS:
        op.create_index(
            f"ix_uploads_active_by_{name}", "uploads", ["bucket_id", column, "upload_id"],
            sqlite_where=sa.text("state = 'active'"), postgresql_where=sa.text("state = 'active'"),
        )


def downgrade() -> None:
    for name, _ in ORDERS:
        op.drop_index(f"ix_uploads_active_by_{name}", table_name="uploads")
    with op.batch_alter_table("uploads") as batch:
        batch.drop_column("part_uploaded_byte_ms")
        batch.drop_column("part_bytes")
        batch.drop_column("part_count")
