"""Web console sessions and failed sign-ins.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("access_key_id", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_console_sessions_last_seen", "console_sessions", ["last_seen_ms"])
    op.create_table(
        "console_signin_failures",
        sa.Column("subject", sa.String(128), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_start_ms", sa.BigInteger, nullable=False),
        sa.Column("locked_until_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("console_signin_failures")
    op.drop_index("ix_console_sessions_last_seen", "console_sessions")
    op.drop_table("console_sessions")
