"""Relations get a search key: the supplier code without case or accents

Revision ID: 0012_relation_code_key
Revises: 0011_company_name_key
Create Date: 2026-12-03 17:05:00

The search of "Mes fournisseurs" looks for each word in the supplier's name
(companies.name_key, 0011) and in the client's supplier code, both folded.
Folding the code in the WHERE clause cost SQLite a Python call per relation
(a search in 5,000 suppliers took twice the time of the list itself).
`relations.code_key` holds hiveo.models.code_key(supplier_code), written with
the code from now on; this migration fills it for the relations already
there. The downgrade drops it: nothing else reads it.
"""
import sqlalchemy as sa
from alembic import op

from hiveo.models import code_key

revision = '0012_relation_code_key'
down_revision = '0011_company_name_key'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('relations', sa.Column('code_key', sa.String(length=80), nullable=False,
                                         server_default=''))
    connection = op.get_bind()
    relations = sa.table('relations', sa.column('id', sa.Integer()),
                         sa.column('supplier_code', sa.String()),
                         sa.column('code_key', sa.String()))
    rows = connection.execute(sa.select(relations.c.id, relations.c.supplier_code)
                              .where(relations.c.supplier_code.is_not(None))).all()
    for start in range(0, len(rows), 1000):
        connection.execute(
            relations.update().where(relations.c.id == sa.bindparam('relation_id'))
            .values(code_key=sa.bindparam('key')),
            [{'relation_id': relation_id, 'key': code_key(code)}
             for relation_id, code in rows[start:start + 1000]])


def downgrade():
    # A plain ALTER TABLE (SQLite 3.35+), as in 0006 and 0011: a batch would rebuild
    # `relations`, whose foreign keys other tables hold.
    op.drop_column('relations', 'code_key')
