"""The client side end to end (issue 16), with and without JavaScript.

A client's admin invites a supplier by SIREN (a company new to the portal); the contact
reads the invitation e-mail (a real SMTP server in the test process), creates an account,
accepts the client on "Mes clients" and uploads the one missing document; an operator
validates it; the client sees the supplier "conforme" on "Mes fournisseurs" and
downloads its dossier as a ZIP. axe-core checks each page when JavaScript runs.

Selectors are roles, labels and the shared French labels of the client pages.
"""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from hiveo.demo.factories import make_company, make_user
from hiveo.extensions import db
from hiveo.mail.outbox import wait_for_sends
from hiveo.relations.requirements import Rule, set_requirements
from tests import pdfs
from tests.e2e.conftest import axe_violations
from tests.e2e.test_dossier_flow import fill_upload, kbis_row, sign_in, sign_out

CLIENT = "418273603"
CLIENT_NAME = "Foncière Rhône Habitat"
SUPPLIER = "443061841"
SUPPLIER_NAME = "Plomberie Moderne Lyonnaise"
CONTACT = "lea.fontaine@plomberie-moderne.example"
CONTACT_PASSWORD = "une phrase de passe solide"

@pytest.fixture
def live_overrides(mail_server):
    return {"SMTP_URL": mail_server.url}


@pytest.fixture
def world(live_app, live_server):
    live_app.config["BASE_URL"] = live_server.url
    with live_app.app_context():
        client = make_company(CLIENT_NAME, siren=CLIENT, establishments=1)
        make_user("dan@example.com", name="Dan Client", profile="fast",
                  memberships=((client, "admin"),))
        make_user("claire@example.com", name="Claire Petit", profile="fast", operator=True)
        # One required document only, so that one upload makes the supplier compliant.
        # (The invitation would make it a client; its list page may ask for that first.)
        client.is_client = True
        set_requirements(client, "", [Rule("KBIS", "company")])
        db.session.commit()


def check_axe(page, javascript: bool) -> None:
    if javascript:  # axe-core runs in the page
        assert axe_violations(page) == []


def click_and_confirm(page, name: str) -> None:
    """Click `name`; when a confirmation (page or dialog) asks, confirm with its button.

    Confirmations put "Annuler" first, then the confirming button: named like the
    action ("Accepter l'invitation"…) or "Confirmer".
    """
    page.get_by_role("button", name=re.compile(f"^{name}")).or_(
        page.get_by_role("link", name=re.compile(f"^{name}"))).first.click()
    cancel = page.get_by_role("button", name="Annuler").or_(
        page.get_by_role("link", name="Annuler"))
    try:
        cancel.first.wait_for(state="visible", timeout=3000)
    except PlaywrightTimeout:  # no confirmation step: the action is done
        return
    scope = page.get_by_role("dialog") if page.get_by_role("dialog").count() else page
    scope.get_by_role("button", name=re.compile(f"^({name}|Confirmer)")).last.click()


def invitation_link(app, mail_server, base_url: str) -> str:
    deadline = time.monotonic() + 10
    while not mail_server.to(CONTACT) and time.monotonic() < deadline:
        wait_for_sends(app)
        time.sleep(0.05)
    [received] = mail_server.to(CONTACT)
    assert CLIENT_NAME in received.subject or CLIENT_NAME in received.text
    links = [link.rstrip(".,;)>") for link in received.links()
             if link.startswith(base_url) and "/login" not in link]
    assert links, received.text
    return links[0]


def supplier_row(page):
    return page.get_by_role("row").filter(has_text=SUPPLIER_NAME)


def client_flow(page, app, base_url: str, mail_server, tmp_path, *, javascript: bool) -> None:
    # 1. The client's admin invites a supplier the portal does not know yet.
    sign_in(page, base_url, "dan@example.com")
    page.goto(base_url + f"/organisations/{CLIENT}/fournisseurs")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check_axe(page, javascript)
    page.get_by_role("link", name="Inviter un fournisseur").or_(
        page.get_by_role("button", name="Inviter un fournisseur")).first.click()
    page.get_by_label("SIREN ou SIRET").fill(SUPPLIER)
    page.get_by_label("Raison sociale").fill(SUPPLIER_NAME)
    page.get_by_label("E-mail du contact").fill(CONTACT)
    check_axe(page, javascript)
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_text(re.compile("[Ii]nvitation envoyée")).first).to_be_visible()
    page.goto(base_url + f"/organisations/{CLIENT}/fournisseurs")
    expect(supplier_row(page)).to_be_visible()
    sign_out(page)

    # 2. The contact follows the e-mail's link and creates an account.
    link = invitation_link(app, mail_server, base_url)
    page.goto(link)
    expect(page.get_by_role("heading", name="Créer votre compte")).to_be_visible()
    check_axe(page, javascript)
    page.get_by_label("Votre nom").fill("Léa Fontaine")
    page.get_by_label("Mot de passe", exact=True).fill(CONTACT_PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(CONTACT_PASSWORD)
    page.get_by_role("button", name=re.compile("Créer mon compte")).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    # 3. "Mes clients": the contact accepts the client's invitation.
    page.goto(base_url + f"/organisations/{SUPPLIER}/clients")
    expect(page.get_by_text(CLIENT_NAME).first).to_be_visible()
    check_axe(page, javascript)
    click_and_confirm(page, "Accepter")
    page.goto(base_url + f"/organisations/{SUPPLIER}/clients")
    expect(page.get_by_text(CLIENT_NAME).first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Accepter"))).to_have_count(0)

    # 4. The client requires a Kbis: the contact uploads it.
    pdf = tmp_path / "kbis.pdf"
    pdf.write_bytes(pdfs.valid_pdf("Extrait Kbis"))
    page.goto(base_url + f"/organisations/{SUPPLIER}/documents")
    expect(kbis_row(page).get_by_text("manquant")).to_be_visible()
    check_axe(page, javascript)
    kbis_row(page).get_by_role("link", name=re.compile("Déposer un document")).click()
    fill_upload(page, pdf)
    page.get_by_role("button", name="Déposer", exact=True).click()
    expect(page.get_by_text("Il est en cours de validation")).to_be_visible()
    sign_out(page)

    # 5. The client sees it "non conforme" while the Kbis awaits review.
    sign_in(page, base_url, "dan@example.com")
    page.goto(base_url + f"/organisations/{CLIENT}/fournisseurs")
    expect(supplier_row(page).get_by_text("non conforme", exact=True)).to_be_visible()
    sign_out(page)

    # 6. An operator validates it.
    sign_in(page, base_url, "claire@example.com")
    page.get_by_role("link", name="Validation").click()
    page.get_by_role("link", name="Examiner").first.click()
    page.get_by_role("button", name=re.compile("^Valider")).click()
    expect(page.get_by_text("Document validé")).to_be_visible()
    sign_out(page)

    # 7. The client sees the supplier "conforme" and downloads its dossier.
    sign_in(page, base_url, "dan@example.com")
    page.goto(base_url + f"/organisations/{CLIENT}/fournisseurs")
    expect(supplier_row(page).get_by_text("conforme", exact=True)).to_be_visible()
    check_axe(page, javascript)
    supplier_row(page).get_by_role("link", name=re.compile(SUPPLIER_NAME)).first.click()
    expect(page.get_by_role("heading", name=re.compile(SUPPLIER_NAME)).first).to_be_visible()
    check_axe(page, javascript)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger le dossier (ZIP)").click()
    archive = zipfile.ZipFile(io.BytesIO(download_info.value.path().read_bytes()))
    names = archive.namelist()
    assert any(name.lower().endswith(".pdf") for name in names), names
    assert archive.read(next(n for n in names if n.lower().endswith(".pdf"))
                        ).startswith(b"%PDF")


def test_client_flow_with_javascript(watched_page, live_app, live_server, world, mail_server,
                                     tmp_path):
    client_flow(watched_page, live_app, live_server.url, mail_server, tmp_path,
                javascript=True)


def test_client_flow_without_javascript(no_js_page, live_app, live_server, world, mail_server,
                                        tmp_path):
    client_flow(no_js_page, live_app, live_server.url, mail_server, tmp_path,
                javascript=False)

