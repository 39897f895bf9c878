"""Migration 0012 adds relations.code_key, filled for the relations already there; its
downgrade drops the column alone."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from hiveo.extensions import db
from tests.conftest import migration_database


def test_0012_fills_the_key_of_existing_codes_and_its_downgrade_drops_it(tmp_path):
    with migration_database(tmp_path) as directory:
        upgrade(directory=directory, revision="0011_company_name_key")
        with db.engine.begin() as connection:
            for siren, name in (("732829320", "Donneur"), ("552100554", "Fournisseur"),
                                ("443061841", "Sans Code")):
                connection.execute(sa.text(
                    "INSERT INTO companies (siren, name, name_key, created_at, is_client) "
                    "VALUES (:siren, :name, lower(:name), CURRENT_TIMESTAMP, 0)"),
                    {"siren": siren, "name": name})
            ids = dict(connection.execute(sa.text("SELECT siren, id FROM companies")).all())
            for supplier, code in (("552100554", "ÉLEC-12"), ("443061841", None)):
                connection.execute(sa.text(
                    "INSERT INTO relations (client_id, supplier_id, state, supplier_code, "
                    "contract_ref, category, description, created_at, invited_at, "
                    "state_changed_at, changed_at) VALUES (:client, :supplier, 'active', "
                    ":code, '', '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                    {"client": ids["732829320"], "supplier": ids[supplier], "code": code})
        upgrade(directory=directory, revision="0012_relation_code_key")
        with db.engine.begin() as connection:
            keys = connection.execute(sa.text(
                "SELECT supplier_code, code_key FROM relations ORDER BY id")).all()
            assert [tuple(row) for row in keys] == [("ÉLEC-12", "elec-12"), (None, "")]
        downgrade(directory=directory, revision="0011_company_name_key")
        with db.engine.begin() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("relations")}
            assert "code_key" not in columns and "supplier_code" in columns
