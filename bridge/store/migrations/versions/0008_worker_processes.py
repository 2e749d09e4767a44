"""worker_processes: live worker processes, so they split the NetSuite concurrency share

Revision ID: 0008_worker_processes
Revises: 0007_merge_links_status
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.store.types import UTCDateTime

revision = "0008_worker_processes"
down_revision = "0007_merge_links_status"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_processes",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(191), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("worker_processes")
