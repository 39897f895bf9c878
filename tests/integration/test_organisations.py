"""'Gérer mes organisations' and the company page."""

from __future__ import annotations

import pytest

from hiveo.demo.factories import add_establishments, make_company, make_user
from hiveo.extensions import db
from hiveo.organisations.services import add_establishment
from tests.helpers import count_queries, login, page_text


def test_organisations_list_shows_every_company_of_the_user(app, client, cast):
    with app.app_context():
        from hiveo.models import Company, User

        alice = db.session.query(User).filter_by(email=cast.alice).one()
        globex = db.session.query(Company).filter_by(siren=cast.globex).one()
        from hiveo.organisations.services import add_member

        add_member(alice, globex, "member")
        db.session.commit()
    login(client, cast.alice)
    html = client.get("/organisations").get_data(as_text=True)
    assert "Acme Nettoyage" in html and "Globex Bâtiment" in html
    assert "732 829 320" in html
    assert "Administration" in html and "Membre" in html
    assert f'href="/organisations/{cast.acme}"' in html


def test_organisations_list_shows_establishment_counts(app, client, cast):
    login(client, cast.charlie)
    html = client.get("/organisations").get_data(as_text=True)
    assert '<td class="num">2</td>' in html
    assert "Acme" not in html


def test_company_page_lists_formatted_establishments(client, cast):
    login(client, cast.bob)
    html = client.get(f"/organisations/{cast.acme}").get_data(as_text=True)
    assert "Acme Nettoyage" in html
    assert "732 829 320 00017" in html
    assert "3 établissements" in html


@pytest.mark.parametrize("who", ["charlie", "olivia"])
def test_it_hides_companies_from_non_members_with_404(client, cast, who):
    login(client, getattr(cast, who))
    assert client.get(f"/organisations/{cast.acme}").status_code == 404
    assert client.get(f"/organisations/{cast.acme}?q=x", headers={"HX-Request": "true"}
                      ).status_code == 404


def test_unknown_and_malformed_sirens_are_404(client, cast):
    login(client, cast.alice)
    assert client.get("/organisations/999999999").status_code == 404
    assert client.get("/organisations/abc").status_code == 404


def test_htmx_search_returns_only_the_rows_fragment(client, cast):
    login(client, cast.alice)
    response = client.get(
        f"/organisations/{cast.acme}?q=00017", headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="establishments"')
    assert "<html" not in html
    assert "732 829 320 00017" in html
    assert "732 829 320 00025" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_boosted_and_history_restore_requests_get_the_full_page(client, cast):
    login(client, cast.alice)
    for header in ("HX-Boosted", "HX-History-Restore-Request"):
        response = client.get(
            f"/organisations/{cast.acme}", headers={"HX-Request": "true", header: "true"}
        )
        assert "<html" in response.get_data(as_text=True)


def test_search_without_javascript_is_a_full_page(client, cast):
    login(client, cast.alice)
    html = page_text(client.get(f"/organisations/{cast.acme}?q=00017"))
    assert "<html" in html
    assert 'value="00017"' in html
    assert "1 établissement pour « 00017 »" in html


@pytest.fixture
def chain(app, cast):
    """Acme with 120 establishments, some in Évry."""
    with app.app_context():
        from hiveo.models import Company

        acme = db.session.query(Company).filter_by(siren=cast.acme).one()
        add_establishments(acme, 117, start=10)
        add_establishment("73282932003334", "Magasin Évry Centre", city="Évry-Courcouronnes",
                          postal_code="91000", company=acme)
        db.session.commit()
    return cast


def test_search_matches_name_siret_or_city_ignoring_accents_and_spaces(client, chain):
    login(client, chain.alice)
    by_city = client.get(f"/organisations/{chain.acme}?q=evry").get_data(as_text=True)
    assert "Magasin Évry Centre" in by_city
    assert "1 établissement" in by_city
    by_siret = client.get(f"/organisations/{chain.acme}?q=732 829 320 03334").get_data(
        as_text=True)
    assert "Magasin Évry Centre" in by_siret
    by_words = client.get(f"/organisations/{chain.acme}?q=MAGASIN centre").get_data(
        as_text=True)
    assert "Magasin Évry Centre" in by_words


def test_search_treats_like_wildcards_literally(client, chain):
    login(client, chain.alice)
    html = client.get(f"/organisations/{chain.acme}?q=%25").get_data(as_text=True)
    assert "Aucun établissement ne correspond" in html


def test_establishments_are_paginated(client, chain):
    login(client, chain.alice)
    first = client.get(f"/organisations/{chain.acme}").get_data(as_text=True)
    assert "121 établissements · 1 à 50" in first
    assert "Page 1 sur 3" in first
    last = client.get(f"/organisations/{chain.acme}?page=3").get_data(as_text=True)
    assert "101 à 121" in last
    beyond = client.get(f"/organisations/{chain.acme}?page=99").get_data(as_text=True)
    assert "Page 3 sur 3" in beyond
    garbage = client.get(f"/organisations/{chain.acme}?page=-1x").get_data(as_text=True)
    assert "Page 1 sur 3" in garbage


def _company_with(app, count: int) -> str:
    with app.app_context():
        company = make_company(f"Chaîne {count}")
        add_establishments(company, count, start=0 if count > 9999 else 1)
        make_user(f"admin{count}@example.com", profile="fast",
                  memberships=((company, "admin"),))
        db.session.commit()
        return company.siren


def test_company_page_query_count_does_not_grow_with_establishments(app, cast):
    sizes = (1, 10, 10_000)
    counts = {}
    for siren, count in [(_company_with(app, size), size) for size in sizes]:
        client = app.test_client()
        login(client, f"admin{count}@example.com")
        for query in ("", "?q=lyon"):
            with count_queries(app) as statements:
                response = client.get(f"/organisations/{siren}{query}")
            assert response.status_code == 200
            counts[(count, query)] = len(statements)
    for query in ("", "?q=lyon"):
        assert len({counts[(size, query)] for size in sizes}) == 1, counts
    # The user with their companies, then the page of establishments with their total
    # (the company has no provider account: no sync query), then the "Membres" section:
    # its members, its pending invitations, and its recent member history.
    assert counts[(10_000, "")] == 5, counts


def test_organisations_query_count_does_not_grow_with_companies(app, client, cast):
    login(client, cast.alice)
    with count_queries(app) as one:
        client.get("/organisations")
    with app.app_context():
        from hiveo.models import User
        from hiveo.organisations.services import add_member

        alice = db.session.query(User).filter_by(email=cast.alice).one()
        for index in range(10):
            add_member(alice, make_company(f"Filiale {index}", establishments=2), "member")
        db.session.commit()
    with count_queries(app) as many:
        html = client.get("/organisations").get_data(as_text=True)
    assert "Filiale 9" in html
    assert len(one) == len(many)
