"""Sign in, the profile menu, 'Gérer mes organisations', a company, a search."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from hiveo.demo.factories import add_establishments, make_company, make_user
from hiveo.extensions import db
from hiveo.organisations.services import add_establishment
from tests.helpers import PASSWORD


@pytest.fixture
def world(live_app):
    with live_app.app_context():
        chain = make_company("Horizon Propreté", siren="732829320")
        add_establishments(chain, 80)
        add_establishment("73282932003334", "Magasin Évry Centre", city="Évry-Courcouronnes",
                          postal_code="91000", company=chain)
        other = make_company("Durand Bâtiment", establishments=1)
        make_user("marie@example.com", name="Marie Dupont", profile="fast",
                  memberships=((chain, "admin"), (other, "member")))
        db.session.commit()


def profile_menu(page):
    return page.locator("details:has(> summary[aria-label='Menu du profil'])")


def sign_in(page, base_url: str) -> None:
    page.goto(base_url + "/organisations")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Adresse e-mail").fill("marie@example.com")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def walk_to_company_and_search(page, base_url: str) -> None:
    sign_in(page, base_url)
    expect(page.get_by_role("heading", name="Gérer mes organisations")).to_be_visible()
    profile_menu(page).locator("summary").click()
    menu_link = profile_menu(page).get_by_role("link", name="Gérer mes organisations")
    expect(menu_link).to_be_visible()
    menu_link.click()
    expect(page.get_by_role("row", name=re.compile("Durand Bâtiment"))).to_be_visible()
    page.get_by_role("link", name="Horizon Propreté").click()
    expect(page.get_by_role("heading", name="Horizon Propreté", level=1)).to_be_visible()
    expect(page.get_by_text("81 établissements · 1 à 50")).to_be_visible()
    page.get_by_label("Rechercher un établissement").fill("evry")


def test_navigation_with_javascript(watched_page, live_server, world):
    page = watched_page
    walk_to_company_and_search(page, live_server.url)
    # Active search: the rows update without pressing the button.
    expect(page.get_by_text("1 établissement pour « evry »")).to_be_visible()
    expect(page.get_by_role("cell", name="Magasin Évry Centre")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=evry"))
    # Escape closes the profile menu and gives focus back to its summary.
    summary = profile_menu(page).locator("summary")
    summary.click()
    menu_link = profile_menu(page).get_by_role("link", name="Gérer mes organisations")
    expect(menu_link).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu_link).to_be_hidden()
    expect(summary).to_be_focused()


def test_navigation_without_javascript(no_js_page, live_server, world):
    page = no_js_page
    walk_to_company_and_search(page, live_server.url)
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_text("1 établissement pour « evry »")).to_be_visible()
    expect(page.get_by_role("cell", name="Magasin Évry Centre")).to_be_visible()
    page.get_by_label("Rechercher un établissement").fill("")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("link", name="Suivante →").click()
    expect(page.get_by_text("Page 2 sur 2")).to_be_visible()


def test_logout_from_the_profile_menu(watched_page, live_server, world):
    page = watched_page
    sign_in(page, live_server.url)
    profile_menu(page).locator("summary").click()
    profile_menu(page).get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()
