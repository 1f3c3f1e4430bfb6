"""Object tags, on objects and on uploads (which pass them to the object at completion).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both engines: a batch (copy-and-move) rebuild on SQLite would drop
    # the expression index ix_uploads_active_age, which Alembic cannot reflect to rebuild.
    for table in ("objects", "uploads"):
        op.add_column(table, sa.Column("tags", sa.JSON, nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    for table in ("objects", "uploads"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("tags")
