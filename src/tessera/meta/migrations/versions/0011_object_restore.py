"""Restores of cold objects: when one was asked for, when its copy is readable, until when, and
at which priority.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMNS = ("restore_requested_ms", "restore_ready_ms", "restore_expires_ms")


def upgrade() -> None:
    # Plain ADD COLUMNs (see 0005): every object written before this is frozen, never restored.
    for name in COLUMNS:
        op.add_column("objects", sa.Column(name, sa.BigInteger, nullable=True))
    op.add_column("objects", sa.Column("restore_tier", sa.String(16), nullable=True))
    op.create_index("ix_objects_restore_expiry", "objects", ["restore_expires_ms"])


def downgrade() -> None:
    op.drop_index("ix_objects_restore_expiry", table_name="objects")
    with op.batch_alter_table("objects") as batch:
        for name in (*COLUMNS, "restore_tier"):
            batch.drop_column(name)
