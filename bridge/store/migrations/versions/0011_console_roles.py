"""console roles: viewer, operator or admin per user (existing users keep every power: admin)

Revision ID: 0011_console_roles
Revises: 0010_queue_claim_speed
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_console_roles"
down_revision = "0010_queue_claim_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="admin"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("role")
