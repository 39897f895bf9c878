"""Count every change to a company's dossier, for the page cache

Revision ID: 0005_company_data_version
Revises: 0004_documents_by_establishment
Create Date: 2026-11-30 00:20:00

`companies.data_version` goes up whenever a row of `establishments`,
`documents` or `provider_links` of the company is inserted, updated or
deleted, whoever writes it (the portal, the command line, a sync, a
hand-written SQL statement). Cached fragments of a company's pages are keyed
by it (hiveo/fragments.py), so they can never outlive the data they show.

Triggers do it, per row on SQLite and per statement on PostgreSQL (a sync
that inserts 1,000 documents bumps the company once). A later migration that
rebuilds one of these tables (a batch operation on SQLite) must create its
triggers again: call `create_triggers()` from here.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_company_data_version'
down_revision = '0004_documents_by_establishment'
branch_labels = None
depends_on = None

TABLES = ("establishments", "documents", "provider_links")

_POSTGRES_FUNCTION = """
CREATE FUNCTION hiveo_bump_company_data_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE companies SET data_version = data_version + 1
        WHERE id IN (SELECT company_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE companies SET data_version = data_version + 1
        WHERE id IN (SELECT company_id FROM old_rows);
    ELSE
        UPDATE companies SET data_version = data_version + 1
        WHERE id IN (SELECT company_id FROM new_rows UNION SELECT company_id FROM old_rows);
    END IF;
    RETURN NULL;
END
$$
"""


def create_triggers(table):
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for event, tables in (("INSERT", "NEW TABLE AS new_rows"),
                              ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                              ("DELETE", "OLD TABLE AS old_rows")):
            op.execute(
                f"CREATE TRIGGER {table}_data_version_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {tables} FOR EACH STATEMENT "
                "EXECUTE FUNCTION hiveo_bump_company_data_version()"
            )
        return
    for event, companies in (("INSERT", "NEW.company_id"),
                             ("UPDATE", "OLD.company_id, NEW.company_id"),
                             ("DELETE", "OLD.company_id")):
        op.execute(
            f"CREATE TRIGGER {table}_data_version_{event.lower()} AFTER {event} ON {table} "
            f"BEGIN UPDATE companies SET data_version = data_version + 1 "
            f"WHERE id IN ({companies}); END"
        )


def drop_triggers(table):
    suffix = " ON " + table if op.get_bind().dialect.name == "postgresql" else ""
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_data_version_{event}{suffix}")


def upgrade():
    op.add_column('companies', sa.Column('data_version', sa.BigInteger(), nullable=False,
                                         server_default='0'))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_FUNCTION)
    for table in TABLES:
        create_triggers(table)


def downgrade():
    for table in TABLES:
        drop_triggers(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS hiveo_bump_company_data_version()")
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.drop_column('data_version')
