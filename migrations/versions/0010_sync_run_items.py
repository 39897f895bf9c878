"""Sync runs record one row per document they touched: sync_run_items

Revision ID: 0010_sync_run_items
Revises: 0009_clients
Create Date: 2026-12-02 04:00:00

A new table only. Runs recorded before it keep their French lines in
`sync_runs.details`, which the run page still shows for them; new runs write
items and leave `details` empty. The downgrade drops the items: the runs they
described keep their counts, not their per-document lines.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_sync_run_items'
down_revision = '0009_clients'
branch_labels = None
depends_on = None

KINDS = ('imported', 'replaced', 'kept', 'awaiting', 'refused', 'lower_revision',
         'unknown_type', 'establishment_missing', 'bad_dates', 'date_out_of_range',
         'file_refused', 'file_missing')


def upgrade():
    op.create_table(
        'sync_run_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('doc_type', sa.String(length=60), nullable=True),
        sa.Column('provider_code', sa.String(length=200), nullable=True),
        sa.Column('establishment_id', sa.Integer(), nullable=True),
        sa.Column('siret', sa.String(length=14), nullable=True),
        sa.Column('external_id', sa.String(length=200), nullable=True),
        sa.Column('external_revision', sa.Integer(), nullable=True),
        sa.Column('issue_date', sa.Date(), nullable=True),
        sa.Column('document_id', sa.Integer(), nullable=True),
        sa.Column('archived_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('value', sa.String(length=200), nullable=True),
        sa.CheckConstraint("kind in (" + ", ".join(f"'{kind}'" for kind in KINDS) + ")",
                           name=op.f('ck_sync_run_items_kind_known')),
        sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], ondelete='CASCADE',
                                name=op.f('fk_sync_run_items_run_id_sync_runs')),
        sa.ForeignKeyConstraint(['establishment_id'], ['establishments.id'],
                                ondelete='SET NULL',
                                name=op.f('fk_sync_run_items_establishment_id_establishments')),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='SET NULL',
                                name=op.f('fk_sync_run_items_document_id_documents')),
        sa.ForeignKeyConstraint(['archived_id'], ['documents.id'], ondelete='SET NULL',
                                name=op.f('fk_sync_run_items_archived_id_documents')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_run_items')),
    )
    op.create_index('ix_sync_run_items_run_id_position', 'sync_run_items',
                    ['run_id', 'position'])


def downgrade():
    op.drop_index('ix_sync_run_items_run_id_position', table_name='sync_run_items')
    op.drop_table('sync_run_items')
