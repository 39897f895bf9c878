"""Upload a PDF from the Documents tab, an operator validates it, the supplier sees it valid."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from hiveo.demo.factories import make_company, make_user
from hiveo.extensions import db
from tests import pdfs
from tests.e2e.test_navigation import profile_menu
from tests.helpers import PASSWORD


@pytest.fixture
def world(live_app):
    with live_app.app_context():
        company = make_company("Durand Bâtiment", siren="732829320", establishments=2)
        make_user("sophie@example.com", name="Sophie Durand", profile="fast",
                  memberships=((company, "admin"),))
        make_user("claire@example.com", name="Claire Petit", profile="fast", operator=True)
        db.session.commit()


def sign_in(page, base_url: str, email: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def sign_out(page) -> None:
    profile_menu(page).locator("summary").click()
    profile_menu(page).get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile("/login"))


def kbis_row(page):
    return page.locator("#company-docs-title ~ table tbody tr").filter(
        has_text="Extrait Kbis")


def fill_upload(page, pdf_path) -> None:
    page.get_by_label("Fichier PDF").set_input_files(str(pdf_path))
    page.get_by_label("Date de délivrance").fill("2026-11-20")


def test_upload_review_and_see_it_valid(watched_page, live_server, world, tmp_path):
    page = watched_page
    pdf = tmp_path / "kbis.pdf"
    pdf.write_bytes(pdfs.valid_pdf("Extrait Kbis"))
    sign_in(page, live_server.url, "sophie@example.com")
    page.get_by_role("link", name="Documents", exact=True).click()
    expect(page.get_by_role("heading", name="Documents de Durand Bâtiment")).to_be_visible()
    expect(kbis_row(page).get_by_text("manquant")).to_be_visible()

    kbis_row(page).get_by_role("link", name=re.compile("Déposer un document")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Type de document")).to_have_value("KBIS")
    # A PNG renamed .pdf is refused inside the dialog, which stays open.
    fake = tmp_path / "photo.pdf"
    fake.write_bytes(pdfs.png_bytes())
    fill_upload(page, fake)
    dialog.get_by_role("button", name="Déposer").click()
    expect(dialog.get_by_text("n\u2019est pas un PDF").first).to_be_visible()
    fill_upload(page, pdf)
    dialog.get_by_role("button", name="Déposer").click()
    expect(page.get_by_text("Il est en cours de validation")).to_be_visible()
    expect(kbis_row(page).get_by_text("en cours de validation").first).to_be_visible()
    sign_out(page)

    sign_in(page, live_server.url, "claire@example.com")
    page.get_by_role("link", name="Validation").click()
    expect(page.get_by_text("1 document en attente")).to_be_visible()
    page.get_by_role("link", name="Examiner").click()
    expect(page.get_by_text("20/11/2026").first).to_be_visible()
    expect(page.locator("iframe.pdf-frame")).to_be_visible()
    page.get_by_role("button", name="Valider le document").click()
    expect(page.get_by_text("Document validé")).to_be_visible()
    expect(page.get_by_text("Aucun document en attente")).to_be_visible()
    sign_out(page)

    sign_in(page, live_server.url, "sophie@example.com")
    page.goto(live_server.url + "/documents")
    expect(kbis_row(page).get_by_text("valide", exact=True)).to_be_visible()
    expect(kbis_row(page).get_by_text("valable du 20/11/2026 au 19/02/2027")).to_be_visible()


def test_upload_without_javascript(no_js_page, live_server, world, tmp_path):
    page = no_js_page
    pdf = tmp_path / "kbis.pdf"
    pdf.write_bytes(pdfs.valid_pdf("Extrait Kbis"))
    sign_in(page, live_server.url, "sophie@example.com")
    page.goto(live_server.url + "/documents")
    kbis_row(page).get_by_role("link", name=re.compile("Déposer un document")).click()
    expect(page.get_by_role("heading", name="Déposer un document")).to_be_visible()
    fill_upload(page, pdf)
    page.get_by_role("button", name="Déposer").click()
    expect(page.get_by_text("Il est en cours de validation")).to_be_visible()


def test_dialog_closes_with_escape_and_gives_focus_back(watched_page, live_server, world):
    page = watched_page
    sign_in(page, live_server.url, "sophie@example.com")
    page.goto(live_server.url + "/documents")
    link = kbis_row(page).get_by_role("link", name=re.compile("Déposer un document"))
    link.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(link).to_be_focused()
