"""Migration 0006 drops the page cache's counter and triggers, and its downgrade restores them."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from hiveo.extensions import db
from tests.conftest import migration_database


def _triggers(connection) -> set[str]:
    return set(connection.scalars(sa.text(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")))


def _columns(connection) -> set[str]:
    return {row[1] for row in connection.execute(sa.text("PRAGMA table_info(companies)"))}


def test_0006_drops_the_counter_and_its_triggers_and_the_downgrade_restores_them(tmp_path):
    with migration_database(tmp_path) as directory:
        upgrade(directory=directory, revision="0005_company_data_version")
        with db.engine.begin() as connection:
            assert "data_version" in _columns(connection)
            assert len(_triggers(connection)) == 9
            connection.execute(sa.text(
                "INSERT INTO companies (siren, name, created_at, data_version) "
                "VALUES ('732829320', 'Acme', CURRENT_TIMESTAMP, 0)"))

        upgrade(directory=directory)
        with db.engine.begin() as connection:
            assert "data_version" not in _columns(connection)
            assert _triggers(connection) == set()
            # The company survived (no table rebuild) and its rows can still change.
            connection.execute(sa.text(
                "INSERT INTO establishments (company_id, siret, name, address, postal_code, "
                "city, search_text, created_at) SELECT id, '73282932000074', 'Siège', '', "
                "'', '', 'siege', CURRENT_TIMESTAMP FROM companies"))
            assert connection.scalar(sa.text("SELECT count(*) FROM establishments")) == 1

        downgrade(directory=directory, revision="0005_company_data_version")
        with db.engine.begin() as connection:
            assert "data_version" in _columns(connection)
            assert len(_triggers(connection)) == 9
            connection.execute(sa.text("UPDATE establishments SET name = 'Siège social'"))
            assert connection.scalar(sa.text("SELECT data_version FROM companies")) == 1
