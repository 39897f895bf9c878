"""Migration 0011 adds companies.name_key, filled for the companies already there; its
downgrade drops the column alone."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from hiveo.extensions import db
from tests.conftest import migration_database


def test_0011_fills_the_key_of_existing_companies_and_its_downgrade_drops_it(tmp_path):
    with migration_database(tmp_path) as directory:
        upgrade(directory=directory, revision="0010_sync_run_items")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO companies (siren, name, created_at, is_client) "
                "VALUES ('732829320', 'Électricité Martin', CURRENT_TIMESTAMP, 0)"))
        upgrade(directory=directory, revision="0011_company_name_key")
        with db.engine.begin() as connection:
            assert connection.scalar(sa.text("SELECT name_key FROM companies")) == (
                "electricite martin")
        downgrade(directory=directory, revision="0010_sync_run_items")
        with db.engine.begin() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("companies")}
            assert "name_key" not in columns and "name" in columns
