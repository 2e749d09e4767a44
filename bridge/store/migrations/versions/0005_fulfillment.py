"""fulfillment: shipments per package, units shipped once, SLA alerts

Revision ID: 0005_fulfillment
Revises: 0001
Create Date: 2026-11-22 08:35:08.670007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.store.types

revision = '0005_fulfillment'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fulfillment_shipments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('fulfillment_id', sa.String(length=64), nullable=False),
    sa.Column('package_index', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('tracking_number', sa.String(length=100), nullable=False),
    sa.Column('carrier', sa.String(length=100), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('provider_name', sa.String(length=100), nullable=False),
    sa.Column('line_item_ids', sa.JSON(), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('tiktok_package_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('shipped_at', bridge.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('tracking_updated_at', bridge.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fulfillment_shipments')),
    sa.UniqueConstraint('shop_id', 'order_id', 'fulfillment_id', 'package_index', 'seq', name='uq_fulfillment_shipments_package')
    )
    with op.batch_alter_table('fulfillment_shipments', schema=None) as batch_op:
        batch_op.create_index('ix_fulfillment_shipments_order', ['shop_id', 'order_id'], unique=False)
        batch_op.create_index('ix_fulfillment_shipments_status', ['status', 'updated_at'], unique=False)

    op.create_table('fulfillment_units',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('line_item_id', sa.String(length=64), nullable=False),
    sa.Column('shipment_id', sa.BigInteger(), nullable=False),
    sa.Column('fulfillment_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fulfillment_units')),
    sa.UniqueConstraint('shop_id', 'order_id', 'line_item_id', name='uq_fulfillment_units_unit')
    )
    with op.batch_alter_table('fulfillment_units', schema=None) as batch_op:
        batch_op.create_index('ix_fulfillment_units_shipment', ['shipment_id'], unique=False)

    op.create_table('sla_alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('deadline', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('raised_at', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_alerts')),
    sa.UniqueConstraint('shop_id', 'order_id', 'level', name='uq_sla_alerts_level')
    )


def downgrade() -> None:
    op.drop_table('sla_alerts')
    with op.batch_alter_table('fulfillment_units', schema=None) as batch_op:
        batch_op.drop_index('ix_fulfillment_units_shipment')

    op.drop_table('fulfillment_units')
    with op.batch_alter_table('fulfillment_shipments', schema=None) as batch_op:
        batch_op.drop_index('ix_fulfillment_shipments_status')
        batch_op.drop_index('ix_fulfillment_shipments_order')

    op.drop_table('fulfillment_shipments')
