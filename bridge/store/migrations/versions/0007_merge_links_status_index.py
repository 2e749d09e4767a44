"""merge the feature branches; links indexed by kind, shop and status

Revision ID: 0007_merge_links_status
Revises: 0002_settlement, 0003_monitoring, 0004_inventory, 0005_fulfillment, 0006_queue_claim_index
"""

from __future__ import annotations

from alembic import op

revision = "0007_merge_links_status"
down_revision = ("0002_settlement", "0003_monitoring", "0004_inventory", "0005_fulfillment", "0006_queue_claim_index")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_links_kind_shop_id_status", "links", ["kind", "shop_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_links_kind_shop_id_status", table_name="links")
