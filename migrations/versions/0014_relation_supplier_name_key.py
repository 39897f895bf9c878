"""Relations keep their supplier's sort key, indexed with the client

Revision ID: 0014_relation_supplier_name_key
Revises: 0013_relation_standing
Create Date: 2026-12-08 03:20:00

"Mes fournisseurs" lists a client's suppliers by name, 50 to a page. Sorting
by companies.name_key meant joining every relation of the client to its
company and sorting them all for each page (about 1 ms on SQLite and 3.5 ms
on PostgreSQL at 5,000 suppliers). `relations.supplier_name_key` holds the
supplier's name_key, written when a relation is inserted (hiveo.models
supplier_name_key()); with an index of (client_id, supplier_name_key, id) a
page by name reads its rows in order from the index. This migration fills the
key of the relations already there from their company. The downgrade drops the
index and the column: nothing else reads them.
"""
import sqlalchemy as sa
from alembic import op

revision = '0014_relation_supplier_name_key'
down_revision = '0013_relation_standing'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('relations', sa.Column('supplier_name_key', sa.String(length=200),
                                         nullable=False, server_default=''))
    op.execute("UPDATE relations SET supplier_name_key = "
               "(SELECT companies.name_key FROM companies "
               "WHERE companies.id = relations.supplier_id)")
    op.create_index('ix_relations_client_supplier_name', 'relations',
                    ['client_id', 'supplier_name_key', 'id'])


def downgrade():
    op.drop_index('ix_relations_client_supplier_name', table_name='relations')
    # A plain ALTER TABLE (SQLite 3.35+), as in 0006, 0011, 0012 and 0013.
    op.drop_column('relations', 'supplier_name_key')
