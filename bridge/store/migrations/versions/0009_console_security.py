"""console security: server-side sessions, login throttles, OAuth state bound to the session

Revision ID: 0009_console_security
Revises: 0008_worker_processes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.store.types import BigId, UTCDateTime

revision = "0009_console_security"
down_revision = "0008_worker_processes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE",
                                                  name="fk_console_sessions_user_id_users"), nullable=False),
        sa.Column("password_fp", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name="pk_console_sessions"),
    )
    op.create_index("ix_console_sessions_user_id", "console_sessions", ["user_id"])
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])
    op.create_table(
        "login_throttles",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_login_throttles"),
    )
    with op.batch_alter_table("oauth_states") as batch:
        batch.add_column(sa.Column("session_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_states") as batch:
        batch.drop_column("session_hash")
    op.drop_table("login_throttles")
    op.drop_index("ix_console_sessions_expires_at", table_name="console_sessions")
    op.drop_index("ix_console_sessions_user_id", table_name="console_sessions")
    op.drop_table("console_sessions")
