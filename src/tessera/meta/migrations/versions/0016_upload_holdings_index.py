"""The initiation-order index of active uploads carries their part counters, so that the usage
reports read it and not the uploads' rows (meta/schema.py, ix_uploads_active_by_initiated).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ACTIVE = sa.text("state = 'active'")
KEY = ["bucket_id", "initiated_ms", "upload_id"]
COUNTERS = ["last_part_ms", "storage_class", "part_count", "part_bytes", "part_uploaded_byte_ms"]


def _recreate(columns: list[str]) -> None:
    op.drop_index("ix_uploads_active_by_initiated", table_name="uploads")
    op.create_index("ix_uploads_active_by_initiated", "uploads", columns,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def upgrade() -> None:
    _recreate(KEY + COUNTERS)


def downgrade() -> None:
    _recreate(KEY)
