"""The sync switch, exactly as supplier admins are told to use it (issue path 1 to 7)."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from hiveo.demo.factories import make_company, make_user
from hiveo.extensions import db
from hiveo.models import ProviderLink
from hiveo.sync.engine import sync_company
from tests.e2e.conftest import axe_violations
from tests.e2e.test_navigation import profile_menu
from tests.helpers import PASSWORD

ACME = "732829320"


@pytest.fixture
def live_overrides(simulator):
    return simulator.config()


@pytest.fixture
def world(live_app, simulator):
    sim = simulator.sim
    sim.add_company("attestation_legale", ACME, "Acme Nettoyage")
    sim.add_document("attestation_legale", ACME, "KBIS", issue_date=date(2026, 10, 1))
    sim.add_document("attestation_legale", ACME, "ATTESTATION_URSSAF",
                     issue_date=date(2026, 10, 1))
    with live_app.app_context():
        company = make_company("Acme Nettoyage", siren=ACME, establishments=12)
        other = make_company("Globex Bâtiment", establishments=1)
        make_user("marie@example.com", name="Marie Dupont", profile="fast",
                  memberships=((company, "admin"), (other, "member")))
        make_user("paul@example.com", name="Paul Girard", profile="fast",
                  memberships=((company, "member"),))
        db.session.commit()
        assert sync_company(company.id, "attestation_legale").outcome == "success"
    return sim


def switched_off_on(live_app) -> str:
    """The day (in France) the stored switch was last changed, as the page writes it.

    Read from the row rather than the test's clock: a change at 23:59:59 must not
    make the test expect the next day.
    """
    with live_app.app_context():
        changed_at = db.session.scalar(select(ProviderLink.changed_at).where(
            ProviderLink.provider == "attestation_legale"))
        db.session.remove()
    return changed_at.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y")


def expect_switched_off_banner(page, live_app) -> None:
    banner = page.get_by_text(re.compile(
        r"Synchronisation Attestation Légale désactivée le \d\d/\d\d/\d{4} par Marie Dupont"))
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(f"désactivée le {switched_off_on(live_app)} par")


def sign_in(page, base_url, email="marie@example.com"):
    page.goto(base_url + "/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    # Marie (two companies) lands on "Gérer mes organisations", Paul (one) on his company.
    expect(profile_menu(page).locator("summary")).to_be_visible()


def open_company(page) -> None:
    """Steps 1 and 2: profile menu, "Gérer mes organisations", the company's name."""
    profile_menu(page).locator("summary").click()
    profile_menu(page).get_by_role("link", name="Gérer mes organisations").click()
    page.get_by_role("link", name="Acme Nettoyage").click()
    expect(page.get_by_role("heading", name="Acme Nettoyage", level=1)).to_be_visible()


def more_actions(page):
    return page.locator("summary[aria-label=\"Plus d'actions\"]")


def kbis_row(page):
    return page.locator("#company-docs-title ~ table tbody tr").filter(has_text="Extrait Kbis")


def test_the_whole_path_with_javascript(watched_page, live_server, live_app, world):
    page = watched_page
    sign_in(page, live_server.url)
    open_company(page)
    expect(page.get_by_text("Synchronisation Attestation Légale active")).to_be_visible()
    assert axe_violations(page) == []

    # Step 3 and 4: the three-dot menu, at the top right, and its item.
    more_actions(page).click()
    item = page.get_by_role("link", name="Désactiver la synchronisation Attestation Légale")
    expect(item).to_be_visible()
    assert axe_violations(page) == []

    # Step 5: a modal dialog explains before anything happens; Escape changes nothing.
    item.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("12 établissements")
    expect(dialog).to_contain_text("Aucun document n'est supprimé")
    # Focus starts on "Annuler", so that Enter does not confirm by accident.
    expect(dialog.get_by_role("link", name="Annuler")).to_be_focused()
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(more_actions(page)).to_be_focused()
    expect(page.get_by_text("Synchronisation Attestation Légale active")).to_be_visible()

    # "Annuler" closes it too, and changes nothing.
    more_actions(page).click()
    page.get_by_role("link", name="Désactiver la synchronisation Attestation Légale").click()
    page.get_by_role("dialog").get_by_role("link", name="Annuler").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("Synchronisation Attestation Légale active")).to_be_visible()

    # Step 6: "Valider" — the banner, the flipped item, the message.
    more_actions(page).click()
    page.get_by_role("link", name="Désactiver la synchronisation Attestation Légale").click()
    page.get_by_role("dialog").get_by_role("button", name="Valider").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect_switched_off_banner(page, live_app)
    expect(page.get_by_text("Aucun document n\u2019a été supprimé")).to_be_visible()
    expect(more_actions(page)).to_be_focused()
    more_actions(page).click()
    expect(page.get_by_role(
        "link", name="Réactiver la synchronisation Attestation Légale")).to_be_visible()
    page.keyboard.press("Escape")

    # Step 7: the Documents tab now accepts manual uploads of those types.
    page.get_by_role("link", name="Documents", exact=True).click()
    expect(page.get_by_role("heading", name="Documents de Acme Nettoyage")).to_be_visible()
    expect(kbis_row(page).get_by_role("link", name=re.compile("Déposer un document"))
           ).to_be_visible()

    # Reactivation: a sync runs now and its result is shown.
    world.add_document("attestation_legale", ACME, "LISTE_SALARIES_ETRANGERS",
                       issue_date=date(2026, 11, 1))
    page.goto(live_server.url + f"/organisations/{ACME}")
    more_actions(page).click()
    page.get_by_role("link", name="Réactiver la synchronisation Attestation Légale").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("archivée et remplacée")
    dialog.get_by_role("button", name="Valider").click()
    expect(page.get_by_text(
        "Synchronisation Attestation Légale réactivée : 1 document importé.")).to_be_visible()
    expect(page.get_by_text("Synchronisation Attestation Légale active et à jour — réactivée le")
           ).to_be_visible()
    page.get_by_role("link", name="Documents", exact=True).click()
    expect(kbis_row(page).get_by_role("img", name="Géré par Attestation Légale")).to_be_visible()
    expect(page.get_by_text("Géré par Attestation Légale :")).to_have_count(1)


def test_the_whole_path_without_javascript(no_js_page, live_server, live_app, world):
    page = no_js_page
    sign_in(page, live_server.url)
    open_company(page)
    more_actions(page).click()
    page.get_by_role("link", name="Désactiver la synchronisation Attestation Légale").click()
    heading = page.get_by_role("heading", name="Désactiver la synchronisation Attestation Légale")
    expect(heading).to_be_visible()
    expect(page.get_by_text("12 établissements")).to_be_visible()
    page.get_by_role("button", name="Valider").click()
    expect_switched_off_banner(page, live_app)
    more_actions(page).click()
    page.get_by_role("link", name="Réactiver la synchronisation Attestation Légale").click()
    page.get_by_role("link", name="Annuler").click()
    expect(page.get_by_text("Synchronisation Attestation Légale désactivée le")).to_be_visible()
    more_actions(page).click()
    page.get_by_role("link", name="Réactiver la synchronisation Attestation Légale").click()
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_text("Synchronisation Attestation Légale réactivée")).to_be_visible()


def test_a_failed_reactivation_says_why_and_stays_on(watched_page, live_server, world):
    page = watched_page
    sign_in(page, live_server.url)
    open_company(page)
    more_actions(page).click()
    page.get_by_role("link", name="Désactiver la synchronisation Attestation Légale").click()
    page.get_by_role("dialog").get_by_role("button", name="Valider").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    world.delay("attestation_legale", 2.0)
    more_actions(page).click()
    page.get_by_role("link", name="Réactiver la synchronisation Attestation Légale").click()
    page.get_by_role("dialog").get_by_role("button", name="Valider").click()
    expect(page.get_by_text(
        "Attestation Légale ne répond pas : la synchronisation reste active et sera retentée."
    )).to_be_visible()
    # Active, but failing: it says so, not "active et à jour".
    expect(page.get_by_text(re.compile("Synchronisation Attestation Légale en échec depuis le"))
           ).to_be_visible()
    expect(page.get_by_text("Raison : Attestation Légale ne répond pas.")).to_be_visible()


def test_members_see_the_items_disabled_with_the_reason(watched_page, live_server, world):
    page = watched_page
    sign_in(page, live_server.url, "paul@example.com")
    # Paul belongs to Acme only: he lands on its page.
    expect(page.get_by_role("heading", name="Acme Nettoyage", level=1)).to_be_visible()
    more_actions(page).click()
    item = page.get_by_role("button", name="Désactiver la synchronisation Attestation Légale")
    expect(item).to_be_disabled()
    expect(page.get_by_text("Réservé aux administrateurs de l'entreprise")).to_be_visible()
    assert axe_violations(page) == []
