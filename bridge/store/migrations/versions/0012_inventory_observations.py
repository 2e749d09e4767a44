"""inventory_observations: free stock per SKU and stock -> TikTok latencies, for the dynamic buffer

Revision ID: 0012_inventory_observations
Revises: 0011_console_roles
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.store.types import UTCDateTime

revision = "0012_inventory_observations"
down_revision = "0011_console_roles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inventory_observations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("sku_id", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("buffer", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inventory_observations_shop_kind_sku_at", "inventory_observations",
                    ["shop_id", "kind", "sku_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_inventory_observations_shop_kind_sku_at", table_name="inventory_observations")
    op.drop_table("inventory_observations")
