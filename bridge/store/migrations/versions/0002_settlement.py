"""settlement: statements, their lines, payments, withdrawals, postings and matches

Revision ID: 0002_settlement
Revises: 0001
Create Date: 2026-11-22 08:18:20.726747
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.store.types

revision = '0002_settlement'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('settlement_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('statement_id', sa.String(length=64), nullable=False),
    sa.Column('transaction_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('adjustment_id', sa.String(length=64), nullable=False),
    sa.Column('related_order_id', sa.String(length=64), nullable=False),
    sa.Column('reserve_id', sa.String(length=64), nullable=False),
    sa.Column('order_create_time', bridge.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revenue', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('shipping', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('fee_tax', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('adjustment', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('settlement', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('reserve', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('breakdown', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_lines')),
    sa.UniqueConstraint('shop_id', 'statement_id', 'transaction_id', name=op.f('uq_settlement_lines_shop_id_statement_id_transaction_id'))
    )
    with op.batch_alter_table('settlement_lines', schema=None) as batch_op:
        batch_op.create_index('ix_settlement_lines_order', ['shop_id', 'related_order_id'], unique=False)

    op.create_table('settlement_matches',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('statement_id', sa.String(length=64), nullable=False),
    sa.Column('transaction_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('netsuite_id', sa.String(length=64), nullable=True),
    sa.Column('settlement', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('tiktok_amount', bridge.store.types.Money(length=48), nullable=True),
    sa.Column('netsuite_amount', bridge.store.types.Money(length=48), nullable=True),
    sa.Column('variance', bridge.store.types.Money(length=48), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_matches')),
    sa.UniqueConstraint('shop_id', 'statement_id', 'transaction_id', name=op.f('uq_settlement_matches_shop_id_statement_id_transaction_id'))
    )
    with op.batch_alter_table('settlement_matches', schema=None) as batch_op:
        batch_op.create_index('ix_settlement_matches_status', ['shop_id', 'statement_id', 'status'], unique=False)

    op.create_table('settlement_payments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('payment_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('amount', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.Column('settlement_amount', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('settlement_currency', sa.String(length=8), nullable=False),
    sa.Column('reserve_amount', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('amount_before_exchange', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('before_exchange_currency', sa.String(length=8), nullable=False),
    sa.Column('exchange_rate', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('bank_account', sa.String(length=16), nullable=False),
    sa.Column('create_time', bridge.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paid_time', bridge.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('imported_at', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_payments')),
    sa.UniqueConstraint('shop_id', 'payment_id', name=op.f('uq_settlement_payments_shop_id_payment_id'))
    )
    op.create_table('settlement_postings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=191), nullable=False),
    sa.Column('record_type', sa.String(length=32), nullable=False),
    sa.Column('netsuite_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('amount', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.Column('tran_date', sa.String(length=10), nullable=False),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('posted_at', bridge.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_postings')),
    sa.UniqueConstraint('external_id', name=op.f('uq_settlement_postings_external_id'))
    )
    with op.batch_alter_table('settlement_postings', schema=None) as batch_op:
        batch_op.create_index('ix_settlement_postings_source', ['shop_id', 'source', 'source_id'], unique=False)

    op.create_table('settlement_statements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('statement_id', sa.String(length=64), nullable=False),
    sa.Column('statement_time', bridge.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('check_status', sa.String(length=16), nullable=False),
    sa.Column('payment_id', sa.String(length=64), nullable=False),
    sa.Column('payment_status', sa.String(length=16), nullable=False),
    sa.Column('revenue', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('shipping', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('fee_tax', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('adjustment', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('settlement', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('reserve', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('payable', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('line_settlement', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('components', sa.JSON(), nullable=False),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.Column('matched', sa.Integer(), nullable=False),
    sa.Column('unmatched', sa.Integer(), nullable=False),
    sa.Column('variance_total', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('imported_at', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_statements')),
    sa.UniqueConstraint('shop_id', 'statement_id', name=op.f('uq_settlement_statements_shop_id_statement_id'))
    )
    with op.batch_alter_table('settlement_statements', schema=None) as batch_op:
        batch_op.create_index('ix_settlement_statements_payment', ['shop_id', 'payment_id'], unique=False)
        batch_op.create_index('ix_settlement_statements_time', ['statement_time'], unique=False)

    op.create_table('settlement_withdrawals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('withdrawal_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('amount', bridge.store.types.Money(length=48), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.Column('create_time', bridge.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('imported_at', bridge.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_withdrawals')),
    sa.UniqueConstraint('shop_id', 'withdrawal_id', name=op.f('uq_settlement_withdrawals_shop_id_withdrawal_id'))
    )


def downgrade() -> None:
    op.drop_table('settlement_withdrawals')
    with op.batch_alter_table('settlement_statements', schema=None) as batch_op:
        batch_op.drop_index('ix_settlement_statements_time')
        batch_op.drop_index('ix_settlement_statements_payment')

    op.drop_table('settlement_statements')
    with op.batch_alter_table('settlement_postings', schema=None) as batch_op:
        batch_op.drop_index('ix_settlement_postings_source')

    op.drop_table('settlement_postings')
    op.drop_table('settlement_payments')
    with op.batch_alter_table('settlement_matches', schema=None) as batch_op:
        batch_op.drop_index('ix_settlement_matches_status')

    op.drop_table('settlement_matches')
    with op.batch_alter_table('settlement_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_settlement_lines_order')

    op.drop_table('settlement_lines')
