""""Mes fournisseurs" in a browser: active search, sorting, small screens, accessibility."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from hiveo.demo.factories import add_suppliers_bulk, make_company, make_user
from hiveo.extensions import db
from tests.e2e.conftest import ConsoleWatch, axe_violations
from tests.e2e.test_experience import sign_in

TODAY = date(2026, 11, 29)


@pytest.fixture
def live_overrides() -> dict:
    return {"TODAY": TODAY}


@pytest.fixture
def world(live_app) -> dict:
    with live_app.app_context():
        client = make_company("Initech Services Généraux et Maintenance", establishments=1)
        make_user("dan@example.com", name="Dan Donneur", profile="fast",
                  memberships=((client, "admin"),))
        add_suppliers_bulk(client, 60, today=TODAY,
                           states=("active", "active", "invited", "suspended", "closed"),
                           dossiers=("complete", "expiring", "missing", "none"),
                           categories=("Nettoyage", "", "Travaux de second œuvre"),
                           label="Fournisseur au nom assez long pour les cartes")
        db.session.commit()
        return {"client": client.siren}


def _rows(page):
    return page.locator("#suppliers tbody tr")


def test_active_search_filters_and_sorting_with_javascript(watched_page, live_server, world):
    page = watched_page
    sign_in(page, live_server.url, "dan@example.com")
    page.get_by_role("link", name="Fournisseurs", exact=True).click()
    expect(page.get_by_role("heading", name="Mes fournisseurs")).to_be_visible()
    expect(page.locator("#supplier-counts")).to_contain_text("48 fournisseurs")
    page.get_by_label("Rechercher un fournisseur").fill("F00007")
    expect(_rows(page)).to_have_count(1)
    assert "q=F00007" in page.url
    page.get_by_label("Rechercher un fournisseur").fill("")
    page.get_by_label("Afficher").select_option("invitations")
    expect(_rows(page)).to_have_count(12)
    expect(page.locator("#suppliers")).to_contain_text("invitation envoyée")
    page.get_by_role("link", name="Code fournisseur").click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Code fournisseur")
    page.get_by_role("link", name="Code fournisseur").click()
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Code fournisseur")
    # The filter form keeps the order the headers chose.
    page.get_by_label("Rechercher un fournisseur").fill("F000")
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Code fournisseur")
    assert "ordre=desc" in page.url and "afficher=invitations" in page.url
    href = page.get_by_role("link", name="CSV").get_attribute("href")
    assert "afficher=invitations" in href and "ordre=desc" in href


def test_filters_work_without_javascript(no_js_page, live_server, world):
    page = no_js_page
    sign_in(page, live_server.url, "dan@example.com")
    page.goto(live_server.url + f"/organisations/{world['client']}/fournisseurs")
    page.get_by_label("Afficher").select_option("suspendues")
    page.get_by_role("button", name="Filtrer").click()
    expect(_rows(page)).to_have_count(12)
    assert "afficher=suspendues" in page.url


@pytest.mark.parametrize("width", (390, 1440))
def test_the_list_is_axe_clean_and_fits_the_screen(live_server, browser, world, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    watch = ConsoleWatch()
    watch.attach(page)
    sign_in(page, live_server.url, "dan@example.com")
    problems = []
    for query in ("", "?afficher=non-conformes", "?q=introuvable", "?page=2&tri=echeance"):
        page.goto(live_server.url + f"/organisations/{world['client']}/fournisseurs{query}")
        expect(page.locator("main")).to_be_visible()
        problems += [f"{query}: {v}" for v in axe_violations(page)]
        overflow = page.evaluate("document.documentElement.scrollWidth")
        if overflow > width:
            problems.append(f"{query}: {overflow} px wide at {width} px")
        if width == 390 and _rows(page).count():
            assert page.evaluate("[...document.querySelectorAll('#suppliers tbody tr')]"
                                 ".every(r => getComputedStyle(r).display === 'block')")
            expect(page.locator(".sort-links")).to_be_visible()
    page.goto(live_server.url + "/fournisseurs")
    expect(page.get_by_role("heading", name="Mes fournisseurs")).to_be_visible()
    context.close()
    assert problems == [] and watch.problems == [], "\n".join(problems + watch.problems)
