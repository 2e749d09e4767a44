"""queue: an index in the claim's order

Revision ID: 0006_queue_claim_index
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0006_queue_claim_index"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_jobs_claim_order", "jobs", ["status", "priority", "run_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_claim_order", table_name="jobs")
