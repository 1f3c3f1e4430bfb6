"""Jobs the console starts (Delete All in Part Management), with their progress.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KeyText = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("bucket", sa.String(63), nullable=False),
        sa.Column("prefix", KeyText, nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("cutoff_ms", sa.BigInteger, nullable=False),
        sa.Column("finished_ms", sa.BigInteger, nullable=True),
        sa.Column("holder", sa.String(128), nullable=True),
        sa.Column("heartbeat_ms", sa.BigInteger, nullable=True),
        sa.Column("total_uploads", sa.BigInteger, nullable=False),
        sa.Column("total_parts", sa.BigInteger, nullable=False),
        sa.Column("total_bytes", sa.BigInteger, nullable=False),
        sa.Column("done_uploads", sa.BigInteger, nullable=False),
        sa.Column("done_parts", sa.BigInteger, nullable=False),
        sa.Column("done_bytes", sa.BigInteger, nullable=False),
        sa.Column("after_key", KeyText, nullable=True),
        sa.Column("after_upload_id", sa.String(32), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_jobs_state", "jobs", ["state"])


def downgrade() -> None:
    op.drop_index("ix_jobs_state", table_name="jobs")
    op.drop_table("jobs")
