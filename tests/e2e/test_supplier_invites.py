"""A client admin invites a supplier by the form and imports others from a CSV file,
with and without JavaScript; the pages are axe-clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from hiveo.demo.factories import make_company, make_user
from hiveo.extensions import db
from hiveo.models import Relation
from tests.e2e.conftest import axe_violations
from tests.helpers import PASSWORD

CLIENT = "552100554"


@pytest.fixture
def world(live_app, live_server):
    live_app.config["BASE_URL"] = live_server.url
    with live_app.app_context():
        acme = make_company("Acme Nettoyage", siren="732829320", establishments=1)
        make_user("alice@example.com", name="Alice Admin", profile="fast",
                  memberships=((acme, "admin"),))
        initech = make_company("Initech Services", siren=CLIENT)
        make_user("dan@example.com", name="Dan Donneur", profile="fast",
                  memberships=((initech, "admin"),))
        db.session.commit()


def sign_in(page, base_url: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Adresse e-mail").fill("dan@example.com")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def relation_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Relation.id))) or 0


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_client_invites_a_supplier_after_fixing_the_siren(
        request, live_app, live_server, world, javascript):
    page = request.getfixturevalue("watched_page" if javascript else "no_js_page")
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/organisations/{CLIENT}/fournisseurs/inviter")
    expect(page.get_by_role("heading", name="Inviter un fournisseur")).to_be_visible()
    if javascript:
        assert axe_violations(page) == []
    page.get_by_label("SIREN ou SIRET").fill("732 829 321")
    page.get_by_label("E-mail du contact").fill("alice@example.com")
    page.get_by_label("Code fournisseur").fill("F-1")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_text("la clé de contrôle ne correspond pas")).to_be_visible()
    expect(page.get_by_label("SIREN ou SIRET")).to_have_attribute("aria-invalid", "true")
    if javascript:
        assert axe_violations(page) == []
    page.get_by_label("SIREN ou SIRET").fill("732 829 320")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_text("Invitation envoyée. Acme Nettoyage est déjà sur hiveo")
           ).to_be_visible()
    assert relation_count(live_app) == 1


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_client_imports_a_csv_file_and_reads_the_report(
        request, live_app, live_server, world, javascript, tmp_path):
    page = request.getfixturevalue("watched_page" if javascript else "no_js_page")
    sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/organisations/{CLIENT}/fournisseurs/importer")
    if javascript:
        assert axe_violations(page) == []
    csv = tmp_path / "fournisseurs.csv"
    csv.write_text("siren_ou_siret;nom;email\n732829320;;alice@example.com\n"
                   "123456789;Faux;x@faux.example\n", encoding="utf-8-sig")
    page.get_by_label("Fichier CSV").set_input_files(str(csv))
    page.get_by_label("Ligne par ligne").check()
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_role("heading", name="Compte rendu de l'import")).to_be_visible()
    expect(page.get_by_text("1 fournisseur invité, 1 ligne refusée")).to_be_visible()
    expect(page.get_by_role("cell", name="123456789", exact=True)).to_be_visible()
    if javascript:
        assert axe_violations(page) == []
    assert relation_count(live_app) == 1


def test_an_operator_creates_a_client_and_suspends_an_account(live_app, live_server,
                                                              watched_page):
    page = watched_page
    with live_app.app_context():
        make_user("olivia@example.com", name="Olivia Opératrice", profile="fast",
                  operator=True)
        make_user("gus@example.com", name="Gus Parti", profile="fast")
        db.session.commit()
    page.goto(live_server.url + "/login")
    page.get_by_label("Adresse e-mail").fill("olivia@example.com")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("link", name="Entreprises").click()
    expect(page.get_by_role("heading", name="Entreprises", level=1)).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Nouveau client").click()
    assert axe_violations(page) == []
    page.get_by_label("SIREN").fill(CLIENT)
    page.get_by_label("Raison sociale").fill("Initech Services")
    page.get_by_label("E-mail de son premier administrateur").fill("dan@example.com")
    page.get_by_role("button", name="Créer le client").click()
    expect(page.get_by_text("Initech Services créée comme client.")).to_be_visible()
    expect(page.get_by_role("cell", name="client", exact=True)).to_be_visible()
    page.goto(live_server.url + "/operateur/comptes?q=gus")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Suspendre le compte gus@example.com").click()
    expect(page.get_by_role("link", name="Annuler")).to_be_focused()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Suspendre le compte").click()
    expect(page.get_by_text("Le compte gus@example.com est suspendu")).to_be_visible()
    page.get_by_role("button", name="Rétablir le compte gus@example.com").click()
    expect(page.get_by_text("Le compte gus@example.com est rétabli")).to_be_visible()
