"""Object ACLs (on objects, and on uploads, which pass theirs to the object at completion) and
symlinks (an object whose target key is recorded instead of a blob).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

KeyText = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    # Plain ADD COLUMNs (see 0005): objects and uploads written before this inherit their
    # bucket's ACL ("default"), and none of them is a symlink.
    for table in ("objects", "uploads"):
        op.add_column(table, sa.Column("acl", sa.String(32), nullable=False, server_default="default"))
    op.add_column("objects", sa.Column("symlink_target", KeyText, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("objects") as batch:
        batch.drop_column("symlink_target")
    for table in ("objects", "uploads"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("acl")
