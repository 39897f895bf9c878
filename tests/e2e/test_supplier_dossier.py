"""A client's admin reads a supplier's dossier, downloads the ZIP and suspends the relation."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from hiveo.demo.factories import make_company, make_document, make_relation, make_user
from hiveo.extensions import db
from tests.conftest import TODAY
from tests.e2e.conftest import axe_violations
from tests.helpers import PASSWORD


@pytest.fixture
def world(live_app) -> str:
    with live_app.app_context():
        acme = make_company("Acme Nettoyage", siren="732829320", establishments=2)
        initech = make_company("Initech Services", establishments=1)
        dan = make_user("dan@example.com", name="Dan Donneur", profile="fast",
                        memberships=((initech, "admin"),))
        make_relation(initech, acme, by=dan, supplier_code="ACME-1")
        make_document(acme, "KBIS", issue_date=TODAY - timedelta(days=10))
        make_document(acme, "URSSAF_VIGILANCE", issue_date=TODAY - timedelta(days=10),
                      validity_start=TODAY - timedelta(days=10))
        db.session.commit()
        return f"/organisations/{initech.siren}/fournisseurs/{acme.siren}"


def sign_in(page, base_url: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Adresse e-mail").fill("dan@example.com")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("summary[aria-label='Menu du profil']")).to_be_visible()


def actions(page):
    return page.locator("summary[aria-label='Actions sur la relation']")


def test_suspend_in_a_dialog_and_download_the_zip(watched_page, live_server, world):
    page = watched_page
    sign_in(page, live_server.url)
    page.goto(live_server.url + world)
    expect(page.get_by_role("heading", name="Acme Nettoyage", level=1)).to_be_visible()
    expect(page.get_by_text("non conforme")).to_be_visible()
    assert axe_violations(page) == []

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le dossier (ZIP)").click()
    names = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())).namelist()
    assert "manifest.csv" in names and len(names) == 4

    actions(page).click()
    page.get_by_role("link", name="Suspendre la relation").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("link", name="Annuler")).to_be_focused()
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(actions(page)).to_be_focused()

    actions(page).click()
    page.get_by_role("link", name="Suspendre la relation").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Suspendre la relation").click()
    expect(dialog.get_by_text("le fournisseur la lira.")).to_be_visible()
    dialog.get_by_label("Raison").fill("Audit de sécurité en cours")
    dialog.get_by_role("button", name="Suspendre la relation").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("Relation avec Acme Nettoyage suspendue.")).to_be_visible()
    expect(page.locator("#relation-title ~ dl")).to_contain_text("Audit de sécurité en cours")
    assert axe_violations(page) == []


def test_close_and_reactivate_without_javascript(no_js_page, live_server, world):
    page = no_js_page
    sign_in(page, live_server.url)
    page.goto(live_server.url + world)
    actions(page).click()
    page.get_by_role("link", name="Clôturer la relation").click()
    expect(page.get_by_role("heading", name="Clôturer la relation")).to_be_visible()
    page.get_by_label("Raison").fill("Marché terminé")
    page.get_by_role("button", name="Clôturer la relation").click()
    expect(page.get_by_text("Relation avec Acme Nettoyage clôturée.")).to_be_visible()
    expect(page.get_by_role("link", name="Télécharger le dossier (ZIP)")).to_have_count(0)
    actions(page).click()
    page.get_by_role("link", name="Réactiver la relation").click()
    page.get_by_role("button", name="Réactiver la relation").click()
    expect(page.get_by_text("le fournisseur doit accepter à nouveau")).to_be_visible()
