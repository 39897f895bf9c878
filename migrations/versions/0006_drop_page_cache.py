"""Drop the page cache's version counter and its triggers

Revision ID: 0006_drop_page_cache
Revises: 0005_company_data_version
Create Date: 2026-12-02 01:00:00

Pages no longer keep rendered fragments (hiveo/fragments.py is gone): every
view reads the database, so nothing needs `companies.data_version`, and a
database restored without triggers can no longer serve stale pages.

The downgrade puts the column and the triggers back exactly as 0005 made
them, so that the code of 0005 finds what it expects (its cache would then be
correct again from the first change on).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_drop_page_cache'
down_revision = '0005_company_data_version'
branch_labels = None
depends_on = None

TABLES = ("establishments", "documents", "provider_links")
EVENTS = ("insert", "update", "delete")

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


def _is_postgresql():
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    on = " ON {table}" if _is_postgresql() else ""
    for table in TABLES:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_data_version_{event}"
                       + on.format(table=table))
    if _is_postgresql():
        op.execute("DROP FUNCTION IF EXISTS hiveo_bump_company_data_version()")
    # A plain ALTER TABLE (SQLite 3.35+): a batch would rebuild `companies`, whose
    # rows other tables reference with ON DELETE CASCADE.
    op.drop_column('companies', 'data_version')


def downgrade():
    op.add_column('companies', sa.Column('data_version', sa.BigInteger(), nullable=False,
                                         server_default='0'))
    if _is_postgresql():
        op.execute(_POSTGRES_FUNCTION)
        for table in TABLES:
            for event, tables in (("INSERT", "NEW TABLE AS new_rows"),
                                  ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                                  ("DELETE", "OLD TABLE AS old_rows")):
                op.execute(
                    f"CREATE TRIGGER {table}_data_version_{event.lower()} AFTER {event} "
                    f"ON {table} REFERENCING {tables} FOR EACH STATEMENT "
                    "EXECUTE FUNCTION hiveo_bump_company_data_version()"
                )
        return
    for table in TABLES:
        for event, companies in (("INSERT", "NEW.company_id"),
                                 ("UPDATE", "OLD.company_id, NEW.company_id"),
                                 ("DELETE", "OLD.company_id")):
            op.execute(
                f"CREATE TRIGGER {table}_data_version_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN UPDATE companies SET data_version = data_version + 1 "
                f"WHERE id IN ({companies}); END"
            )
