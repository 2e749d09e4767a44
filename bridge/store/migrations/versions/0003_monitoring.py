"""monitoring: drift monitor readings and de-duplicated alerts

Revision ID: 0003_monitoring
Revises: 0001
Create Date: 2026-11-22 08:11:59.507837
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.store.types

revision = '0003_monitoring'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=191), nullable=False),
    sa.Column('monitor', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=False),
    sa.Column('value', bridge.store.types.Money(length=48), nullable=True),
    sa.Column('threshold', bridge.store.types.Money(length=48), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('first_seen', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_sent_at', bridge.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sends', sa.Integer(), nullable=False),
    sa.Column('resolved_at', bridge.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivery', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('key', name=op.f('uq_alerts_key'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_status_last_seen', ['status', 'last_seen'], unique=False)

    op.create_table('monitor_readings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('monitor', sa.String(length=64), nullable=False),
    sa.Column('at', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('value', bridge.store.types.Money(length=48), nullable=True),
    sa.Column('threshold', bridge.store.types.Money(length=48), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('samples', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_readings'))
    )
    with op.batch_alter_table('monitor_readings', schema=None) as batch_op:
        batch_op.create_index('ix_monitor_readings_at', ['at'], unique=False)
        batch_op.create_index('ix_monitor_readings_monitor_at', ['monitor', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('monitor_readings', schema=None) as batch_op:
        batch_op.drop_index('ix_monitor_readings_monitor_at')
        batch_op.drop_index('ix_monitor_readings_at')

    op.drop_table('monitor_readings')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_status_last_seen')

    op.drop_table('alerts')
