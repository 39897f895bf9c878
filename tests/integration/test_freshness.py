"""Pages show the database as it is now: nothing is kept rendered between requests."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from hiveo.demo.factories import make_document
from hiveo.extensions import db
from hiveo.models import Company, Establishment
from tests.helpers import count_queries, login, page_text


def _outside(app, sql: str, **params) -> None:
    """A write by another connection, as a sync process, the command line or psql makes."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as connection:
        connection.execute(sa.text(sql), params)
    engine.dispose()


def test_a_change_made_outside_the_portal_shows_on_the_next_view(app, client, cast):
    with app.app_context():
        est_id, name = db.session.execute(
            sa.select(Establishment.id, Establishment.name)
            .where(Establishment.company_id == cast.acme_id).order_by(Establishment.siret)
        ).first()
    login(client, cast.alice)
    path = f"/organisations/{cast.acme}"
    assert name in page_text(client.get(path))
    assert name in page_text(client.get(path))

    _outside(app, "UPDATE establishments SET name = 'Renommé par ailleurs' WHERE id = :id",
             id=est_id)
    html = page_text(client.get(path))
    assert "Renommé par ailleurs" in html and name not in html

    _outside(app, "UPDATE companies SET name = 'Acme Propreté' WHERE id = :id", id=cast.acme_id)
    assert "Établissements de Acme Propreté" in page_text(client.get(path))
    assert "Acme Propreté" in page_text(client.get("/organisations"))


def test_the_organisations_list_counts_establishments_added_elsewhere(app, client, cast):
    login(client, cast.alice)
    assert '<td class="num">3</td>' in page_text(client.get("/organisations"))
    _outside(app, "INSERT INTO establishments (company_id, siret, name, address, postal_code, "
                  "city, search_text, created_at) VALUES (:company, '73282932000090', "
                  "'Acme Nord', '', '', '', 'acme nord', CURRENT_TIMESTAMP)",
             company=cast.acme_id)
    assert '<td class="num">4</td>' in page_text(client.get("/organisations"))


def test_a_document_added_elsewhere_shows_on_the_documents_tab(app, client, cast):
    login(client, cast.alice)
    path = f"/organisations/{cast.acme}/documents"
    assert "25/11/2026" not in page_text(client.get(path))
    with app.app_context():
        make_document(db.session.get(Company, cast.acme_id), "KBIS",
                      issue_date=date(2026, 11, 25))
        db.session.commit()
    assert "25/11/2026" in page_text(client.get(path))


def test_expiring_soon_becomes_expired_the_day_after_the_last_valid_day(app, client, cast):
    with app.app_context():
        make_document(db.session.get(Company, cast.acme_id), "FISCAL_REGULARITY",
                      issue_date=date(2026, 6, 1), validity_end=date(2026, 12, 10))
        db.session.commit()
    login(client, cast.alice)
    path = f"/organisations/{cast.acme}/documents"
    # The state badge: its icon, then its label.
    expiring = re.compile(r'<span class="badge badge-expiring">(<svg.*?</svg>)?'
                          r'<span>expire bientôt</span></span>', re.S)
    expired = re.compile(r'<span class="badge badge-expired">(<svg.*?</svg>)?'
                         r'<span>expiré</span></span>', re.S)

    app.config["TODAY"] = date(2026, 11, 10)  # 30 days left
    html = page_text(client.get(path))
    assert expiring.search(html) and not expired.search(html)
    app.config["TODAY"] = date(2026, 12, 10)  # its last valid day
    html = page_text(client.get(path))
    assert expiring.search(html) and not expired.search(html)
    app.config["TODAY"] = date(2026, 12, 11)
    html = page_text(client.get(path))
    assert expired.search(html) and not expiring.search(html)


def test_a_page_reads_the_user_and_their_companies_in_one_statement(app, client, cast):
    login(client, cast.alice)
    client.get("/page-introuvable")
    with count_queries(app) as statements:
        assert client.get("/page-introuvable").status_code == 404
    assert len(statements) == 1, statements
    assert "FROM users" in statements[0] and "memberships" in statements[0]
