"""The fragment cache of company pages: keyed by a version the database raises, never stale."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text

from hiveo.demo.factories import make_document
from hiveo.extensions import db
from hiveo.fragments import fragment_cache
from hiveo.models import Company, Document, Establishment, ProviderLink
from hiveo.organisations.services import add_establishment
from tests.helpers import count_queries, login, page_text


def _version(app, company_id: int) -> int:
    with app.app_context():
        version = db.session.scalar(select(Company.data_version).where(Company.id == company_id))
        db.session.remove()
        return version


def _acme(cast):
    return db.session.get(Company, cast.acme_id)


def test_every_change_to_a_dossier_raises_its_company_version_and_no_other(app, cast):
    seen = [_version(app, cast.acme_id)]
    globex_before = _version(app, cast.globex_id)

    def changed(write) -> None:
        with app.app_context():
            write()
            db.session.commit()
        seen.append(_version(app, cast.acme_id))
        assert seen[-1] > seen[-2], write.__name__

    def add_an_establishment():
        add_establishment("73282932000090", "Acme Nord", company=_acme(cast))

    def rename_an_establishment():
        db.session.execute(sa.update(Establishment)
                           .where(Establishment.siret == "73282932000090")
                           .values(name="Acme Nord-Est"))

    def add_a_document():
        make_document(_acme(cast), "KBIS", issue_date=date(2026, 11, 1))

    def archive_a_document():
        db.session.execute(sa.update(Document).where(Document.company_id == cast.acme_id)
                           .values(is_current=False, current_slot=None,
                                   archived_at=sa.func.current_timestamp()))

    def link_a_provider():
        db.session.add(ProviderLink(company_id=cast.acme_id, provider="actradis", linked=True))

    def turn_its_sync_off():
        db.session.execute(sa.update(ProviderLink).where(ProviderLink.company_id == cast.acme_id)
                           .values(sync_enabled=False))

    def delete_the_documents():
        db.session.execute(sa.delete(Document).where(Document.company_id == cast.acme_id))

    def delete_an_establishment():
        db.session.execute(sa.delete(Establishment)
                           .where(Establishment.siret == "73282932000090"))

    for write in (add_an_establishment, rename_an_establishment, add_a_document,
                  archive_a_document, link_a_provider, turn_its_sync_off,
                  delete_the_documents, delete_an_establishment):
        changed(write)
    assert _version(app, cast.globex_id) == globex_before


def test_a_bulk_statement_raises_the_version_of_every_company_it_touches(app, cast):
    before = (_version(app, cast.acme_id), _version(app, cast.globex_id))
    with app.app_context():
        db.session.execute(sa.update(Establishment).values(city="Paris"))
        db.session.commit()
    after = (_version(app, cast.acme_id), _version(app, cast.globex_id))
    assert after[0] > before[0] and after[1] > before[1]


def test_the_company_page_is_served_from_the_cache_until_another_writer_changes_it(
        app, client, cast):
    with app.app_context():
        est_id, name = db.session.execute(
            select(Establishment.id, Establishment.name)
            .where(Establishment.company_id == cast.acme_id).order_by(Establishment.siret)
        ).first()
    login(client, cast.alice)
    path = f"/organisations/{cast.acme}"
    assert name in page_text(client.get(path))
    hits = fragment_cache_of(app).hits
    with count_queries(app) as statements:
        assert name in page_text(client.get(path))
    assert fragment_cache_of(app).hits == hits + 1
    # The user and the company with its version: no establishment query on a hit.
    assert not [s for s in statements if "FROM establishments" in s.split("WHERE")[0]]

    # Another connection, outside the portal (as a sync process or psql would).
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as connection:
        connection.execute(text("UPDATE establishments SET name = 'Renommé par ailleurs' "
                                "WHERE id = :id"), {"id": est_id})
    engine.dispose()
    html = page_text(client.get(path))
    assert "Renommé par ailleurs" in html and name not in html


def fragment_cache_of(app):
    with app.app_context():
        return fragment_cache()


def test_the_documents_tab_follows_a_new_document_and_the_day(app, client, cast):
    login(client, cast.alice)
    path = f"/organisations/{cast.acme}/documents"
    app.config["TODAY"] = date(2026, 11, 29)
    with app.app_context():
        make_document(_acme(cast), "URSSAF_VIGILANCE", issue_date=date(2026, 11, 20))
        db.session.commit()
    first = page_text(client.get(path))
    with count_queries(app) as statements:
        again = page_text(client.get(path))
    assert again == first
    assert len(statements) == 1, statements  # the user with the companies they belong to

    with app.app_context():
        make_document(_acme(cast), "KBIS", issue_date=date(2026, 11, 25))
        db.session.commit()
    assert "25/11/2026" not in again and "25/11/2026" in page_text(client.get(path))

    # Six months later the attestation has expired: the same data, another day.
    app.config["TODAY"] = date(2027, 6, 1)
    later = page_text(client.get(path))
    assert later != again
    assert "Expiré" in later


def test_members_and_admins_never_share_an_entry(app, client, cast):
    path = f"/organisations/{cast.acme}/documents"
    cache = fragment_cache_of(app)
    login(client, cast.alice)
    client.get(path)
    entries = len(cache)
    login(client, cast.bob)
    client.get(path)
    assert len(cache) == entries + 1


@pytest.mark.parametrize("app_overrides", [{"FRAGMENT_CACHE_MB": 0}])
def test_with_the_cache_off_pages_render_every_time(app, client, cast):
    login(client, cast.alice)
    for path in (f"/organisations/{cast.acme}", f"/organisations/{cast.acme}/documents"):
        assert client.get(path).status_code == 200
        with count_queries(app) as statements:
            assert client.get(path).status_code == 200
        assert [s for s in statements if "FROM establishments" in s]
    assert len(fragment_cache_of(app)) == 0


def test_a_company_renamed_is_shown_renamed(app, client, cast):
    login(client, cast.alice)
    path = f"/organisations/{cast.acme}"
    client.get(path)
    with app.app_context():
        _acme(cast).name = "Acme Propreté"
        db.session.commit()
    assert "Établissements de Acme Propreté" in page_text(client.get(path))


def test_the_organisations_list_counts_again_only_after_a_change(app, client, cast):
    login(client, cast.alice)
    assert '<td class="num">3</td>' in page_text(client.get("/organisations"))
    with count_queries(app) as statements:
        client.get("/organisations")
    assert not [s for s in statements if "count(" in s]
    with app.app_context():
        add_establishment("73282932000090", "Acme Nord", company=_acme(cast))
        db.session.commit()
    with count_queries(app) as statements:
        assert '<td class="num">4</td>' in page_text(client.get("/organisations"))
    assert [s for s in statements if "count(" in s]
