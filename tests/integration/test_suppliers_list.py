""""Mes fournisseurs": a client's suppliers, filtered, searched, sorted, paginated, exported."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from flask import url_for
from sqlalchemy import select, text

from hiveo.demo.factories import (
    add_suppliers_bulk,
    make_company,
    make_document,
    make_relation,
    make_user,
)
from hiveo.extensions import db
from hiveo.models import Company, Establishment
from tests.helpers import count_queries, login, page_text

TODAY = date(2026, 11, 29)
ISSUED = date(2026, 11, 1)
NAMES = ("Alpha Propreté", "Bêta Bâtiment", "Gamma Sécurité", "Delta Transports",
         "Epsilon Conseil", "Zêta Services")


@pytest.fixture
def app_overrides() -> dict:
    return {"SUPPLIERS_PER_PAGE": 5}


def _dossier(company: Company, *, urssaf_end: date | None = None, urssaf: bool = True) -> None:
    make_document(company, "KBIS", issue_date=ISSUED)
    make_document(company, "LNTE", issue_date=ISSUED)
    if urssaf:
        make_document(company, "URSSAF_VIGILANCE", issue_date=ISSUED, validity_start=ISSUED,
                      validity_end=urssaf_end)


@pytest.fixture
def world(app) -> dict:
    """Initech (dan admin, erin member) follows seven suppliers in every state;
    Hooli (frank) follows one supplier of its own."""
    with app.app_context():
        initech = make_company("Initech Services", establishments=1)
        hooli = make_company("Hooli Achats", establishments=1)
        dan = make_user("dan@example.com", name="Dan Donneur", profile="fast",
                        memberships=((initech, "admin"),))
        make_user("erin@example.com", name="Erin Acheteuse", profile="fast",
                  memberships=((initech, "member"),))
        frank = make_user("frank@example.com", name="Frank Ailleurs", profile="fast",
                          memberships=((hooli, "admin"),))
        suppliers = {name: make_company(name, establishments=1)
                     for name in (*NAMES, "Êta Logistique", "Omega Secret")}
        _dossier(suppliers["Alpha Propreté"])
        _dossier(suppliers["Bêta Bâtiment"], urssaf_end=date(2026, 12, 10))
        _dossier(suppliers["Gamma Sécurité"], urssaf=False)
        _dossier(suppliers["Zêta Services"])
        _dossier(suppliers["Omega Secret"])
        make_relation(initech, suppliers["Alpha Propreté"], by=dan, supplier_code="A-001",
                      category="Nettoyage")
        make_relation(initech, suppliers["Bêta Bâtiment"], by=dan, supplier_code="B-002",
                      category="Travaux")
        make_relation(initech, suppliers["Gamma Sécurité"], by=dan, supplier_code="C-003",
                      category="Nettoyage")
        make_relation(initech, suppliers["Delta Transports"], by=dan, supplier_code="D-004")
        make_relation(initech, suppliers["Epsilon Conseil"], by=dan, state="invited",
                      supplier_code="E-005")
        make_relation(initech, suppliers["Zêta Services"], by=dan, state="suspended")
        make_relation(initech, suppliers["Êta Logistique"], by=dan, state="closed")
        make_relation(hooli, suppliers["Omega Secret"], by=frank, supplier_code="SECRET-9",
                      category="Confidentiel")
        gamma_siret = db.session.scalar(select(Establishment.siret).where(
            Establishment.company_id == suppliers["Gamma Sécurité"].id))
        db.session.commit()
        return {"initech": initech.siren, "hooli": hooli.siren, "gamma_siret": gamma_siret,
                **{name: company.siren for name, company in suppliers.items()}}


def _path(world: dict, query: str = "", suffix: str = "") -> str:
    return f"/organisations/{world['initech']}/fournisseurs{suffix}{query}"


def _names(response) -> list[str]:
    """The suppliers the table lists, in order."""
    return re.findall(r'<td data-label="Fournisseur"><a href="[^"]+">([^<]+)</a>',
                      page_text(response))


def _get(app, world, query: str = "", *, email: str = "dan@example.com", **kwargs):
    client = app.test_client()
    login(client, email)
    return client.get(_path(world, query), **kwargs)


def _listed(response) -> tuple[str, list[str]]:
    """What the list says of its rows: "3 fournisseurs pour ces critères · 1 à 2", and
    its pagination."""
    text = page_text(response)
    count = re.search(r'<p class="result-count"[^>]*>(.*?)</p>', text, re.S)
    assert count is not None
    return " ".join(count.group(1).split()), re.findall(r"Page \d+ sur \d+", text)


def _all_pages(app, world, query: str = "") -> list[str]:
    client = app.test_client()
    login(client, "dan@example.com")
    names: list[str] = []
    for number in (1, 2):
        joiner = "&" if query else "?"
        names += _names(client.get(_path(world, f"{query}{joiner}page={number}"
                                                if query else f"?page={number}")))
    return names


def test_the_list_shows_each_supplier_with_code_category_state_compliance_and_expiry(app, world):
    response = _get(app, world, "?tri=code")
    text = page_text(response)
    assert response.status_code == 200
    assert _names(response) == ["Alpha Propreté", "Bêta Bâtiment", "Gamma Sécurité",
                                "Delta Transports", "Epsilon Conseil"]
    assert "A-001" in text and "Nettoyage" in text and "Travaux" in text
    assert f"{world['Alpha Propreté'][:3]} {world['Alpha Propreté'][3:6]}" in text
    assert "conforme" in text and "non conforme" in text
    assert "invitation envoyée" in text
    # Bêta's URSSAF attestation ends first; the date is French.
    assert "10/12/2026" in text
    assert f'href="/organisations/{world["initech"]}/fournisseurs/{world["Alpha Propreté"]}"' \
        in response.get_data(as_text=True)
    # The rows build the dossier's URL from the list's: it is the dossier's route.
    with app.test_request_context():
        dossier = url_for("supplier_dossier.detail", siren=world["initech"],
                          supplier=world["Delta Transports"])
    assert f'href="{dossier}"' in response.get_data(as_text=True)


def test_the_header_counts_suppliers_compliant_non_compliant_and_pending(app, world):
    text = page_text(_get(app, world))
    assert ("6 fournisseurs · 2 conformes · 2 non conformes · 1 invitation en attente"
            " · 1 suspendue · 1 clôturée") in text


@pytest.mark.parametrize("query", ["?afficher=suspendues", "?q=aucun-fournisseur-ainsi",
                                   "?page=9"])
def test_the_header_counts_every_supplier_whatever_the_page_shows(app, world, query):
    """The counts come with the rows; a page with none (or past the end) still has them."""
    text = page_text(_get(app, world, query))
    assert ("6 fournisseurs · 2 conformes · 2 non conformes · 1 invitation en attente"
            " · 1 suspendue · 1 clôturée") in text


def test_no_expiry_is_shown_of_a_supplier_that_has_not_accepted_or_was_closed(app, world):
    """Before acceptance and after closure the client reads nothing of the dossier, its
    end dates included: no date in the row, the CSV or the "expire sous 30 jours" filter."""
    with app.app_context():
        for name in ("Epsilon Conseil", "Êta Logistique"):
            supplier = db.session.scalar(select(Company).where(Company.siren == world[name]))
            _dossier(supplier, urssaf_end=date(2026, 12, 10))
        db.session.commit()
    assert set(_names(_get(app, world, "?afficher=expire-30-jours"))) == {"Bêta Bâtiment"}
    for query in ("?afficher=invitations", "?afficher=cloturees"):
        assert "10/12/2026" not in page_text(_get(app, world, query))
    client = app.test_client()
    login(client, "dan@example.com")
    csv_text = client.get(_path(world, "?afficher=invitations", ".csv")).get_data(as_text=True)
    assert "Epsilon Conseil" in csv_text and "10/12/2026" not in csv_text


def test_closed_relations_are_left_out_unless_asked_for(app, world):
    assert "Êta Logistique" not in _all_pages(app, world)
    assert _names(_get(app, world, "?afficher=cloturees")) == ["Êta Logistique"]


@pytest.mark.parametrize(("query", "expected"), [
    ("?afficher=non-conformes", {"Gamma Sécurité", "Delta Transports"}),
    ("?afficher=expire-30-jours", {"Bêta Bâtiment"}),
    ("?afficher=jamais-depose", {"Delta Transports", "Epsilon Conseil"}),
    ("?afficher=invitations", {"Epsilon Conseil"}),
    ("?afficher=suspendues", {"Zêta Services"}),
    ("?afficher=cloturees", {"Êta Logistique"}),
    ("?categorie=Nettoyage", {"Alpha Propreté", "Gamma Sécurité"}),
    ("?categorie=Nettoyage&afficher=non-conformes", {"Gamma Sécurité"}),
])
def test_each_filter_lists_only_its_suppliers(app, world, query, expected):
    assert set(_names(_get(app, world, query))) == expected


def test_the_category_filter_offers_the_clients_own_categories(app, world):
    html = _get(app, world).get_data(as_text=True)
    assert '<option value="Nettoyage"' in html and '<option value="Travaux"' in html
    assert "Confidentiel" not in html


@pytest.mark.parametrize(("key", "expected"), [
    ("name", "Gamma Sécurité"),
    ("name_any_case", "Gamma Sécurité"),
    ("siren", "Gamma Sécurité"),
    ("spaced_siren", "Gamma Sécurité"),
    ("siret", "Gamma Sécurité"),
    ("code", "Bêta Bâtiment"),
])
def test_search_finds_a_supplier_by_name_siren_siret_or_code(app, world, key, expected):
    siren = world["Gamma Sécurité"]
    term = {"name": "Sécurité", "name_any_case": "gAMMA", "siren": siren,
            "spaced_siren": f"{siren[:3]} {siren[3:6]} {siren[6:]}",
            "siret": world["gamma_siret"], "code": "b-002"}[key]
    client = app.test_client()
    login(client, "dan@example.com")
    response = client.get(_path(world), query_string={"q": term})
    assert _names(response) == [expected]


@pytest.mark.parametrize(("term", "expected"), [
    ("beta batiment", ["Bêta Bâtiment"]),
    ("SECURITE", ["Gamma Sécurité"]),
    ("Sécurité", ["Gamma Sécurité"]),
    ("eta", ["Bêta Bâtiment", "Zêta Services"]),  # Êta Logistique is closed: not listed
    ("ÊTA", ["Bêta Bâtiment", "Zêta Services"]),
])
def test_search_folds_case_and_accents_on_both_sides(app, world, term, expected):
    client = app.test_client()
    login(client, "dan@example.com")
    assert _names(client.get(_path(world), query_string={"q": term})) == expected


def test_search_folds_the_codes_set_by_the_references_form_and_by_bulk_inserts(app, world):
    """The code's search key is written with the code: changed by the client
    (relations.update_references) or inserted in bulk (the demo, the benchmarks)."""
    from hiveo.demo.bulk import add_relations_bulk
    from hiveo.models import Relation
    from hiveo.relations import services

    with app.app_context():
        initech = db.session.scalar(select(Company).where(Company.siren == world["initech"]))
        delta = db.session.scalar(select(Company).where(
            Company.siren == world["Delta Transports"]))
        relation = db.session.scalar(select(Relation).where(
            Relation.client_id == initech.id, Relation.supplier_id == delta.id))
        services.update_references(relation, None, services.References(
            supplier_code="ÉLEC-Ñ7", category=relation.category))
        newcomer = make_company("Nouveau Venu", establishments=1)
        add_relations_bulk(initech, [{"supplier_id": newcomer.id, "supplier_code": "ŒUF-Â9"}])
        db.session.commit()
    client = app.test_client()
    login(client, "dan@example.com")

    def found(term: str) -> list[str]:
        return _names(client.get(_path(world), query_string={"q": term}))

    assert found("elec-n7") == found("Élec") == ["Delta Transports"]
    assert found("D-004") == []
    assert found("oeuf-a9") == found("ŒUF") == ["Nouveau Venu"]


def test_a_search_without_match_says_what_to_try(app, world):
    text = page_text(_get(app, world, "?q=introuvable"))
    assert "Aucun fournisseur ne correspond à ces critères pour « introuvable »" in text
    assert "affichez tous les fournisseurs" in text


def test_columns_sort_both_ways_and_say_so_with_aria_sort(app, world):
    ascending = _get(app, world)
    html = ascending.get_data(as_text=True)
    assert _names(ascending)[:2] == ["Alpha Propreté", "Bêta Bâtiment"]
    assert html.count("aria-sort=") == 1
    assert re.search(r'<th scope="col" aria-sort="ascending">\s*<a href="[^"]*fournisseurs'
                     r'\?ordre=desc"', html)
    assert 'href="/organisations/' + world["initech"] + '/fournisseurs?tri=siren"' in html
    descending = _get(app, world, "?ordre=desc")
    assert _names(descending)[0] == "Zêta Services"
    assert 'aria-sort="descending"' in descending.get_data(as_text=True)


def test_sort_by_next_expiry_puts_the_soonest_first_and_the_undated_last(app, world):
    names = _all_pages(app, world, "?tri=echeance")
    assert names[0] == "Bêta Bâtiment"
    assert set(names[-2:]) == {"Delta Transports", "Epsilon Conseil"}


def test_sort_by_compliance_puts_the_compliant_first_and_non_active_last(app, world):
    names = _all_pages(app, world, "?tri=conformite")
    assert set(names[:2]) == {"Alpha Propreté", "Bêta Bâtiment"}
    assert set(names[2:4]) == {"Gamma Sécurité", "Delta Transports"}
    assert set(names[4:]) == {"Epsilon Conseil", "Zêta Services"}


def test_the_list_is_paginated_and_its_links_keep_filters_and_sort(app, world):
    first = _get(app, world, "?tri=nom&ordre=desc")
    text = page_text(first)
    assert len(_names(first)) == 5
    assert "6 fournisseurs · 1 à 5" in text and "Page 1 sur 2" in text
    assert "fournisseurs?ordre=desc&page=2" in text
    second = _get(app, world, "?tri=nom&ordre=desc&page=2")
    assert _names(second) == ["Alpha Propreté"]
    # A page past the end shows the last one.
    assert _names(_get(app, world, "?page=40")) == _names(_get(app, world, "?page=2"))
    assert sorted(_all_pages(app, world)) == sorted(NAMES)


def test_the_export_links_keep_the_current_filters(app, world):
    text = page_text(_get(app, world, "?afficher=non-conformes&q=a"))
    assert "fournisseurs.csv?afficher=non-conformes&q=a" in text
    assert "fournisseurs.xlsx?afficher=non-conformes&q=a" in text


def test_admins_get_the_invite_button_and_members_do_not(app, world):
    admin = page_text(_get(app, world))
    assert "Inviter un fournisseur" in admin
    assert f'href="/organisations/{world["initech"]}/fournisseurs/inviter"' in admin
    member = _get(app, world, email="erin@example.com")
    assert member.status_code == 200
    assert sorted(_names(member)) == sorted(_names(_get(app, world)))
    assert "Inviter un fournisseur" not in page_text(member)


def test_another_clients_suppliers_and_references_are_never_listed(app, world):
    for query in ("", "?q=Omega", f"?q={world['Omega Secret']}", "?q=SECRET",
                  "?afficher=cloturees", "?categorie=Confidentiel"):
        response = _get(app, world, query)
        text = page_text(response)
        assert "Omega Secret" not in text and "SECRET-9" not in text, query
        assert "Omega Secret" not in _names(response), query
    hooli = app.test_client()
    login(hooli, "frank@example.com")
    own = hooli.get(f"/organisations/{world['hooli']}/fournisseurs")
    assert _names(own) == ["Omega Secret"]
    assert "Alpha" not in page_text(own)
    assert hooli.get(_path(world)).status_code == 404
    assert hooli.get(_path(world, suffix=".csv")).status_code == 404


def test_a_listing_statement_is_built_once_per_shape_and_bound_per_request(app, world):
    """Searches of the same shape from two clients share one statement; each request
    binds its own client and words, and gets its own rows."""
    from hiveo.relations import queries

    queries._statement.cache_clear()
    hooli = app.test_client()
    login(hooli, "frank@example.com")
    fragment = {"HX-Request": "true"}
    assert _names(_get(app, world, "?q=alpha", headers=fragment)) == ["Alpha Propreté"]
    assert _names(hooli.get(f"/organisations/{world['hooli']}/fournisseurs?q=omega",
                            headers=fragment)) == ["Omega Secret"]
    assert _names(_get(app, world, "?q=gamma", headers=fragment)) == ["Gamma Sécurité"]
    assert _names(_get(app, world, "?q=omega", headers=fragment)) == []
    info = queries._statement.cache_info()
    assert (info.misses, info.hits) == (1, 3)


def test_a_company_that_is_no_client_has_no_supplier_list(app, world, cast):
    client = app.test_client()
    login(client, cast.alice)
    assert client.get(f"/organisations/{cast.acme}/fournisseurs").status_code == 404
    html = client.get(f"/organisations/{cast.acme}").get_data(as_text=True)
    assert "/fournisseurs" not in html


def test_the_tab_leads_a_client_user_to_their_list(app, world):
    client = app.test_client()
    login(client, "dan@example.com")
    html = client.get(f"/organisations/{world['initech']}").get_data(as_text=True)
    assert '<a href="/fournisseurs"' in html and ">Fournisseurs</a>" in html
    response = client.get("/fournisseurs")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(_path(world))
    assert 'aria-current="page">Fournisseurs' in client.get(_path(world)).get_data(as_text=True)


def test_a_user_of_two_client_companies_chooses_one(app, world):
    with app.app_context():
        from hiveo.models import User
        from hiveo.organisations.services import add_member

        dan = db.session.scalar(select(User).where(User.email == "dan@example.com"))
        hooli = db.session.scalar(select(Company).where(Company.siren == world["hooli"]))
        add_member(dan, hooli, "member")
        db.session.commit()
    client = app.test_client()
    login(client, "dan@example.com")
    chooser = client.get("/fournisseurs?siren=000000000")
    text = page_text(chooser)
    assert chooser.status_code == 200
    assert "Initech Services" in text and "Hooli Achats" in text
    assert client.get(f"/fournisseurs?siren={world['hooli']}").headers["Location"].endswith(
        f"/organisations/{world['hooli']}/fournisseurs")


def test_a_client_without_suppliers_is_told_what_to_do_next(app, world):
    with app.app_context():
        lonely = make_company("Solo Achats")
        lonely.is_client = True
        make_user("solo@example.com", profile="fast", memberships=((lonely, "admin"),))
        db.session.commit()
        siren = lonely.siren
    client = app.test_client()
    login(client, "solo@example.com")
    text = page_text(client.get(f"/organisations/{siren}/fournisseurs"))
    assert "Vous ne suivez encore aucun fournisseur." in text
    assert "0 fournisseur · 0 conforme · 0 non conforme · 0 invitation en attente" in text
    assert "Inviter un fournisseur" in text


def test_htmx_gets_the_list_fragment_and_a_browser_the_whole_page(app, world):
    fragment = _get(app, world, "?afficher=non-conformes", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and html.lstrip().startswith('<div id="suppliers"')
    assert set(_names(fragment)) == {"Gamma Sécurité", "Delta Transports"}
    page = _get(app, world, "?afficher=non-conformes").get_data(as_text=True)
    assert "<html" in page and 'id="suppliers"' in page and 'id="supplier-counts"' in page
    assert 'hx-get="/organisations/' in page and 'hx-target="#suppliers"' in page


def _rows(response) -> list[str]:
    """Each table row's text: name, codes, state, compliance, expiry."""
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in re.findall(r"<tr>\s*<td data-label=\"Fournisseur\".*?</tr>",
                                  page_text(response), re.S)]


@pytest.mark.parametrize("query", [
    "", "?page=2", "?q=eta", "?q=a&tri=conformite", "?q=a&tri=echeance&ordre=desc",
    "?afficher=non-conformes&q=a", "?afficher=expire-30-jours&categorie=Travaux",
    "?categorie=Nettoyage&tri=conformite&ordre=desc", "?afficher=invitations",
    "?afficher=suspendues&tri=echeance", "?afficher=cloturees", "?afficher=jamais-depose",
    "?tri=nom&ordre=desc&page=2", "?tri=code", "?tri=etat&ordre=desc", "?tri=modification",
    "?tri=siren&categorie=Travaux", "?page=9", "?q=zeta&afficher=suspendues",
    "?afficher=non-conformes", "?afficher=invitations&page=4", "?afficher=cloturees&tri=code"])
def test_a_fragment_lists_the_same_rows_as_the_whole_page(app, world, query):
    """A fragment whose filter and sort do not read the figures finds its page first and
    computes the figures of its rows alone, and counts its rows; the whole page takes that
    count from its header when the header has it (no filter, or a status filter alone):
    the rows, their count and the pages are the same."""
    whole_page = _get(app, world, query)
    fragment_page = _get(app, world, query, headers={"HX-Request": "true"})
    whole, fragment = _rows(whole_page), _rows(fragment_page)
    assert fragment == whole, query
    assert _listed(fragment_page) == _listed(whole_page), query
    if query in ("", "?q=eta", "?afficher=non-conformes&q=a"):
        assert whole, query


@pytest.mark.parametrize(("status", "listed"), [
    ("", 9), ("non-conformes", 2), ("invitations", 3), ("suspendues", 2), ("cloturees", 1)])
def test_the_whole_page_takes_its_total_from_the_header_and_says_the_same(app, status, listed):
    """Ten suppliers: 4 active (2 compliant), 3 invited, 2 suspended, 1 closed. The whole
    page takes the number of rows a status filter lists from its counts header; it is
    the number the fragment counts, and the pages follow it."""
    with app.app_context():
        client = make_company("Donneur Compté", establishments=1)
        make_user("compte@example.com", profile="fast", memberships=((client, "member"),))
        add_suppliers_bulk(client, 10, today=TODAY,
                           states=("active",) * 4 + ("invited",) * 3 + ("suspended",) * 2
                           + ("closed",), dossiers=("complete", "none"))
        db.session.commit()
        siren = client.siren
    browser = app.test_client()
    login(browser, "compte@example.com")
    query = f"?afficher={status}&page=2" if status else "?page=2"
    whole = browser.get(f"/organisations/{siren}/fournisseurs{query}")
    fragment = browser.get(f"/organisations/{siren}/fournisseurs{query}",
                           headers={"HX-Request": "true"})
    said = _listed(whole)
    assert said == _listed(fragment)
    assert said[0].startswith(f"{listed} fournisseur"), said
    assert said[1] == (["Page 2 sur 2"] if listed > 5 else []), said
    assert len(_names(whole)) == (listed - 5 if listed > 5 else listed)


def test_the_csv_export_is_excel_friendly_and_follows_the_filters(app, world):
    client = app.test_client()
    login(client, "dan@example.com")
    response = client.get(_path(world, "?afficher=non-conformes&tri=code", ".csv"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Fournisseur", "SIREN", "Code fournisseur", "Catégorie", "État",
                       "Conformité", "Prochaine échéance", "Dernière modification"]
    assert [row[0] for row in rows[1:]] == ["Gamma Sécurité", "Delta Transports"]
    gamma = rows[1]
    assert gamma[1:6] == [world["Gamma Sécurité"], "C-003", "Nettoyage", "active",
                          "non conforme"]
    assert gamma[6] == "31/01/2027"
    everything = list(csv.reader(io.StringIO(
        client.get(_path(world, "", ".csv")).get_data().decode("utf-8-sig")), delimiter=";"))
    assert len(everything) == 1 + 6
    assert "Omega Secret" not in str(everything)


def test_the_xlsx_export_opens_in_openpyxl_with_the_same_rows(app, world):
    from openpyxl import load_workbook

    client = app.test_client()
    login(client, "erin@example.com")
    response = client.get(_path(world, "?tri=echeance", ".xlsx"))
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Fournisseur", "SIREN", "Code fournisseur")
    assert len(rows) == 1 + 6
    assert rows[1][0] == "Bêta Bâtiment"
    assert rows[1][5] == "conforme"
    assert rows[1][6].date() == date(2026, 12, 10)
    assert {row[0] for row in rows[1:]} == set(NAMES)


def _client_with(app, size: int) -> str:
    with app.app_context():
        client = make_company(f"Donneur {size}", establishments=1)
        make_user(f"client{size}@example.com", profile="fast",
                  memberships=((client, "member"),))
        add_suppliers_bulk(client, size, today=TODAY,
                           states=("active", "active", "active", "invited", "suspended",
                                   "closed"),
                           dossiers=("complete", "expiring", "missing", "none"),
                           categories=("", "Nettoyage", "Travaux"))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # The planner's statistics, as autovacuum gathers them after a bulk load (the
            # test database runs without it): what is counted here is statements, and
            # without statistics each page of 5,000 took about 25 s.
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        return client.siren


def test_sql_statements_do_not_grow_from_10_to_5000_suppliers(app):
    queries = ("", "?afficher=non-conformes", "?afficher=expire-30-jours&tri=echeance",
               "?q=fournisseur&tri=conformite&ordre=desc", "?categorie=Nettoyage", "?page=2")
    counts: dict[tuple[int, str], int] = {}
    for size in (10, 5000):
        siren = _client_with(app, size)
        client = app.test_client()
        login(client, f"client{size}@example.com")
        for query in queries:
            with count_queries(app) as statements:
                response = client.get(f"/organisations/{siren}/fournisseurs{query}")
            assert response.status_code == 200, query
            assert _names(response), query
            counts[(size, query)] = len(statements)
            with count_queries(app) as statements:
                response = client.get(f"/organisations/{siren}/fournisseurs{query}",
                                      headers={"HX-Request": "true"})
            assert _names(response), query
            counts[(size, "fragment" + query)] = len(statements)
        with count_queries(app) as statements:
            assert client.get(f"/organisations/{siren}/fournisseurs.csv").status_code == 200
        counts[(size, "csv")] = len(statements)
    for query in (*queries, *("fragment" + query for query in queries), "csv"):
        assert counts[(10, query)] == counts[(5000, query)], counts
    # The user with their companies, the page (whose total the header gives), the counts
    # header (an aggregate of the stored standings), the categories.
    assert counts[(5000, "")] == 4, counts


def test_the_bulk_factory_makes_suppliers_in_every_state(app):
    from hiveo.relations.queries import supplier_counts

    with app.app_context():
        client = make_company("Donneur")
        add_suppliers_bulk(client, 12, today=TODAY,
                           states=("active", "active", "invited", "suspended"),
                           dossiers=("complete", "none"))
        counts = supplier_counts(client, TODAY)
    assert (counts.total, counts.compliant, counts.non_compliant, counts.invited,
            counts.suspended) == (12, 3, 3, 3, 3)


def test_an_export_that_reaches_the_cap_says_so_in_its_last_line(app, world, monkeypatch):
    from openpyxl import load_workbook

    from hiveo.relations import queries

    monkeypatch.setattr(queries, "EXPORT_ROW_CAP", 3)
    client = app.test_client()
    login(client, "dan@example.com")
    rows = list(csv.reader(io.StringIO(
        client.get(_path(world, "", ".csv")).get_data().decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1 + 3 + 1
    assert rows[-1][0].startswith("Export limité aux 3 premières lignes")
    sheet = load_workbook(io.BytesIO(client.get(_path(world, "", ".xlsx")).get_data())).active
    assert [row[0] for row in sheet.iter_rows(values_only=True)][-1].startswith(
        "Export limité aux 3")
