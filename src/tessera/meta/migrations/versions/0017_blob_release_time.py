"""When a blob was released: a backend whose readers cannot keep a deleted blob open (s3://)
deletes released blobs only a delay after (docs/scale-out.md).

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("blobs") as batch:
        batch.add_column(sa.Column("released_ms", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("blobs") as batch:
        batch.drop_column("released_ms")
