"""Driver-level reads (hiveo/reads.py): which connection they use and how they give it back."""

from __future__ import annotations

from hiveo import reads
from hiveo.demo.factories import make_company
from hiveo.extensions import db
from tests.helpers import login

_NAMES = reads.Query("SELECT name FROM companies WHERE siren = :siren")


def test_a_get_borrows_one_connection_and_gives_it_back_as_the_pool_lent_it(app, client, cast):
    login(client, cast.alice)
    with app.app_context():
        pool = db.engine.pool
    for path in ("/organisations", f"/organisations/{cast.acme}",
                 f"/organisations/{cast.acme}/documents"):
        assert client.get(path).status_code == 200
        assert pool.checkedout() == 0
    with app.app_context():
        borrowed = [db.engine.raw_connection() for _ in range(pool.size())]
        try:
            for connection in borrowed:
                driver = connection.driver_connection
                if db.engine.dialect.name == "sqlite":
                    assert not driver.in_transaction
                else:
                    assert driver.autocommit is False
        finally:
            for connection in borrowed:
                connection.close()


def test_outside_a_get_reads_see_the_sessions_own_writes(app, cast):
    with app.app_context():
        company = make_company("Pas encore validée")
        assert reads.first(_NAMES, {"siren": company.siren}).name == "Pas encore validée"
        db.session.rollback()
        assert reads.first(_NAMES, {"siren": company.siren}) is None


def test_in_a_get_reads_share_one_connection_until_the_request_ends(app, cast):
    with app.test_request_context("/"):
        first = reads._driver_connection()
        assert reads._driver_connection() is first
        assert reads.first(_NAMES, {"siren": cast.acme}).name == "Acme Nettoyage"
    with app.test_request_context("/"):
        assert reads._driver_connection() is not None
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
