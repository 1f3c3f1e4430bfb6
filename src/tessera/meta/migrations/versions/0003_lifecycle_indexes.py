"""Indexes lifecycle runs find their candidates through: uploads by last update, objects by age.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_uploads_active_age",
        "uploads",
        ["bucket_id", sa.text("coalesce(last_part_ms, initiated_ms)"), "upload_id"],
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    )
    op.create_index("ix_objects_age", "objects", ["bucket_id", "last_modified_ms"])


def downgrade() -> None:
    op.drop_index("ix_objects_age", table_name="objects")
    op.drop_index("ix_uploads_active_age", table_name="uploads")
