"""Usage counters per bucket × storage class × kind, filled from what is stored now.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage",
        sa.Column("bucket_id", sa.Integer, sa.ForeignKey("buckets.bucket_id"), primary_key=True),
        sa.Column("storage_class", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("billed_bytes", sa.BigInteger, nullable=False),
    )
    # Count what already exists, once (64 KB = 65536 bytes minimum for IA and colder objects).
    op.execute("""
        INSERT INTO usage (bucket_id, storage_class, kind, count, bytes, billed_bytes)
        SELECT bucket_id, storage_class, 'object', COUNT(*), SUM(size),
               SUM(CASE WHEN storage_class IN ('IA', 'Archive', 'ColdArchive', 'DeepColdArchive')
                         AND size < 65536 THEN 65536 ELSE size END)
        FROM objects GROUP BY bucket_id, storage_class
    """)
    op.execute("""
        INSERT INTO usage (bucket_id, storage_class, kind, count, bytes, billed_bytes)
        SELECT u.bucket_id, u.storage_class, 'part', COUNT(*), SUM(p.size), SUM(p.size)
        FROM uploads u JOIN parts p ON p.upload_id = u.upload_id
        WHERE u.state = 'active' GROUP BY u.bucket_id, u.storage_class
    """)
    op.execute("""
        INSERT INTO usage (bucket_id, storage_class, kind, count, bytes, billed_bytes)
        SELECT bucket_id, storage_class, 'upload', COUNT(*), 0, 0
        FROM uploads WHERE state = 'active' GROUP BY bucket_id, storage_class
    """)


def downgrade() -> None:
    op.drop_table("usage")
