"""queue: partial indexes that serve the claim, the head-of-key check and the lease sweep

The claim reads only queued jobs in (priority, run_at, id) order and checks, per candidate, whether an
earlier job of its key is still queued or running. With a day of finished jobs in the table the full
indexes made both walk finished rows; these partial indexes hold only the live ones, so the claim's
cost does not grow with history (EXPLAIN in docs/queue.md). ``ix_jobs_claim_order`` (status, priority,
run_at, id) is replaced by the partial ``ix_jobs_queued_order``.

Revision ID: 0010_queue_claim_speed
Revises: 0009_console_security
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_queue_claim_speed"
down_revision = "0009_console_security"
branch_labels = None
depends_on = None

QUEUED = "status = 'queued'"
ACTIVE = "status IN ('queued', 'running')"
RUNNING = "status = 'running'"


def upgrade() -> None:
    op.create_index("ix_jobs_queued_order", "jobs", ["priority", "run_at", "id"],
                    sqlite_where=sa.text(QUEUED), postgresql_where=sa.text(QUEUED))
    op.create_index("ix_jobs_active_key", "jobs", ["key", "id"],
                    sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))
    op.create_index("ix_jobs_running_lease", "jobs", ["lease_expires_at"],
                    sqlite_where=sa.text(RUNNING), postgresql_where=sa.text(RUNNING))
    op.drop_index("ix_jobs_claim_order", table_name="jobs")


def downgrade() -> None:
    op.create_index("ix_jobs_claim_order", "jobs", ["status", "priority", "run_at", "id"])
    op.drop_index("ix_jobs_running_lease", table_name="jobs")
    op.drop_index("ix_jobs_active_key", table_name="jobs")
    op.drop_index("ix_jobs_queued_order", table_name="jobs")
