"""inventory: SKU index, last pushed quantities and prices, pulled places

Revision ID: 0004_inventory
Revises: 0001
Create Date: 2026-11-22 08:17:41.089144
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.store.types


revision = '0004_inventory'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inventory_places',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('place_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('pulled_at', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_places')),
    sa.UniqueConstraint('kind', 'shop_id', 'place_id', name=op.f('uq_inventory_places_kind_shop_id_place_id'))
    )
    op.create_table('inventory_pushed',
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('sku_id', sa.String(length=64), nullable=False),
    sa.Column('warehouse_id', sa.String(length=64), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('pushed_at', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('shop_id', 'sku_id', 'warehouse_id', name=op.f('pk_inventory_pushed'))
    )
    op.create_table('inventory_skus',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('sku_id', sa.String(length=64), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('seller_sku', sa.String(length=191), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=True),
    sa.Column('item_inactive', sa.Boolean(), nullable=False),
    sa.Column('product_status', sa.String(length=32), nullable=False),
    sa.Column('warehouses', sa.JSON(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('listings', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('updated_at', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_skus')),
    sa.UniqueConstraint('shop_id', 'sku_id', name=op.f('uq_inventory_skus_shop_id_sku_id'))
    )
    with op.batch_alter_table('inventory_skus', schema=None) as batch_op:
        batch_op.create_index('ix_inventory_skus_item_id', ['item_id'], unique=False)
        batch_op.create_index('ix_inventory_skus_shop_id_product_id', ['shop_id', 'product_id'], unique=False)
        batch_op.create_index('ix_inventory_skus_shop_id_seller_sku', ['shop_id', 'seller_sku'], unique=False)

    op.create_table('prices_pushed',
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('sku_id', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.Column('price', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('price_level', sa.String(length=64), nullable=False),
    sa.Column('pushed_at', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('shop_id', 'sku_id', name=op.f('pk_prices_pushed'))
    )


def downgrade() -> None:
    op.drop_table('prices_pushed')
    with op.batch_alter_table('inventory_skus', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_skus_shop_id_seller_sku')
        batch_op.drop_index('ix_inventory_skus_shop_id_product_id')
        batch_op.drop_index('ix_inventory_skus_item_id')

    op.drop_table('inventory_skus')
    op.drop_table('inventory_pushed')
    op.drop_table('inventory_places')
