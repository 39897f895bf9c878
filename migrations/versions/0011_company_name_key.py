"""Companies get a sort key: the name without case or accents

Revision ID: 0011_company_name_key
Revises: 0010_sync_run_items
Create Date: 2026-12-03 13:40:00

Lists sorted by name put "Électricité Martin" after "Zénith" when they sort
the bytes of the name (PostgreSQL under the C locale, SQLite always), and
folding the name in the ORDER BY of a 5,000-supplier list cost SQLite a
Python call per row. `companies.name_key` holds hiveo.models.name_key(name),
written with the name from now on; this migration fills it for the
companies already there. The downgrade drops it: nothing else reads it.
"""
from alembic import op
import sqlalchemy as sa

from hiveo.models import name_key


revision = '0011_company_name_key'
down_revision = '0010_sync_run_items'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('companies', sa.Column('name_key', sa.String(length=200), nullable=False,
                                         server_default=''))
    connection = op.get_bind()
    companies = sa.table('companies', sa.column('id', sa.Integer()),
                         sa.column('name', sa.String()), sa.column('name_key', sa.String()))
    rows = connection.execute(sa.select(companies.c.id, companies.c.name)).all()
    for start in range(0, len(rows), 1000):
        connection.execute(
            companies.update().where(companies.c.id == sa.bindparam('company_id'))
            .values(name_key=sa.bindparam('key')),
            [{'company_id': company_id, 'key': name_key(name)}
             for company_id, name in rows[start:start + 1000]])


def downgrade():
    # A plain ALTER TABLE (SQLite 3.35+), as in 0006: a batch would rebuild `companies`.
    op.drop_column('companies', 'name_key')
