"""Migration 0010 adds sync_run_items beside the runs, and its downgrade drops it alone."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from hiveo.extensions import db
from tests.conftest import migration_database

REVISION = "0010_sync_run_items"


def _tables(connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


def test_0010_adds_run_items_and_the_downgrade_keeps_the_runs(tmp_path):
    with migration_database(tmp_path) as directory:
        upgrade(directory=directory, revision=REVISION)
        with db.engine.begin() as connection:
            assert "sync_run_items" in _tables(connection)
            columns = {c["name"] for c in sa.inspect(connection).get_columns("sync_run_items")}
            assert {"run_id", "kind", "doc_type", "provider_code", "siret", "external_id",
                    "external_revision", "document_id", "archived_id", "reason"} <= columns
            connection.execute(sa.text(
                "INSERT INTO companies (siren, name, created_at) "
                "VALUES ('732829320', 'Acme', CURRENT_TIMESTAMP)"))
            connection.execute(sa.text(
                "INSERT INTO sync_runs (company_id, provider, trigger, started_at, finished_at,"
                " outcome, imported, replaced, kept, awaiting, refused, skipped,"
                " files_downloaded, details) VALUES (1, 'actradis', 'manual', CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP, 'success', 0, 0, 1, 0, 0, 0, 0, '[]')"))
            connection.execute(sa.text(
                "INSERT INTO sync_run_items (run_id, position, kind) VALUES (1, 0, 'kept')"))
            with pytest.raises(sa.exc.IntegrityError):
                connection.execute(sa.text("INSERT INTO sync_run_items (run_id, position, kind)"
                                           " VALUES (1, 1, 'whatever')"))

        downgrade(directory=directory, revision=f"{REVISION}-1")
        with db.engine.begin() as connection:
            assert "sync_run_items" not in _tables(connection)
            assert connection.scalar(sa.text("SELECT kept FROM sync_runs")) == 1
