"""Migration 0014 adds relations.supplier_name_key, filled from the supplier's name for the
relations already there, and its index; the downgrade drops both."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from hiveo.extensions import db
from tests.conftest import migration_database


def test_0014_keeps_each_suppliers_name_key_on_its_relations_and_its_downgrade_drops_it(
        tmp_path):
    with migration_database(tmp_path) as directory:
        upgrade(directory=directory, revision="0013_relation_standing")
        with db.engine.begin() as connection:
            for siren, name, key in (("732829320", "Donneur", "donneur"),
                                     ("552100554", "Électricité Martin", "electricite martin"),
                                     ("443061841", "Zêta Services", "zeta services")):
                connection.execute(sa.text(
                    "INSERT INTO companies (siren, name, name_key, created_at, is_client) "
                    "VALUES (:siren, :name, :key, CURRENT_TIMESTAMP, 0)"),
                    {"siren": siren, "name": name, "key": key})
            ids = dict(connection.execute(sa.text("SELECT siren, id FROM companies")).all())
            for supplier in ("443061841", "552100554"):
                connection.execute(sa.text(
                    "INSERT INTO relations (client_id, supplier_id, state, contract_ref, "
                    "category, description, created_at, invited_at, state_changed_at, "
                    "changed_at) VALUES (:client, :supplier, 'active', '', '', '', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"),
                    {"client": ids["732829320"], "supplier": ids[supplier]})
        upgrade(directory=directory, revision="0014_relation_supplier_name_key")
        with db.engine.begin() as connection:
            keys = connection.execute(sa.text(
                "SELECT supplier_name_key FROM relations ORDER BY id")).scalars().all()
            assert keys == ["zeta services", "electricite martin"]
            indexes = {index["name"]: index["column_names"]
                       for index in sa.inspect(connection).get_indexes("relations")}
            assert indexes["ix_relations_client_supplier_name"] == [
                "client_id", "supplier_name_key", "id"]
        downgrade(directory=directory, revision="0013_relation_standing")
        with db.engine.begin() as connection:
            inspector = sa.inspect(connection)
            columns = {column["name"] for column in inspector.get_columns("relations")}
            assert "supplier_name_key" not in columns and "held_until" in columns
            assert "ix_relations_client_supplier_name" not in {
                index["name"] for index in inspector.get_indexes("relations")}
