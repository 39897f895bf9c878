"""The settings every database connection of the portal starts with (hiveo/extensions.py).

PostgreSQL: no JIT, and every statement planned for its own values, even once
psycopg has made it a prepared statement (after five runs) and PostgreSQL
could switch it to a generic plan. SQLite: WAL, foreign keys, a busy timeout.
"""

from __future__ import annotations

from sqlalchemy import select, text

from hiveo.demo.factories import make_company
from hiveo.extensions import db
from hiveo.models import Company


def test_postgresql_plans_every_run_of_a_prepared_statement_for_its_own_values(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        company = make_company("Réglages")
        db.session.commit()
        statement = select(Company.name).where(Company.siren == company.siren)
        for _ in range(12):
            assert db.session.scalar(statement) == "Réglages"
        assert db.session.scalar(text("SHOW jit")) == "off"
        plans = db.session.execute(text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE 'SELECT companies.name %' AND statement LIKE '%siren%'")).all()
        # psycopg prepared it (the sixth run on); each later run was planned anew.
        assert plans, "psycopg did not prepare the statement"
        assert sum(row.generic_plans for row in plans) == 0, plans
        assert sum(row.custom_plans for row in plans) >= 5, plans


def test_sqlite_connections_use_wal_and_foreign_keys(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        assert db.session.scalar(text("PRAGMA journal_mode")) == "wal"
        assert db.session.scalar(text("PRAGMA foreign_keys")) == 1
        assert db.session.scalar(text("PRAGMA busy_timeout")) > 0
