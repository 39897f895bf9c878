"""An admin invites a member; the invitee opens the e-mail's link, creates an account, signs in.

The e-mail is the one a real SMTP server (aiosmtpd, in the test process) received.
"""

from __future__ import annotations

import html
import re
import time
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from hiveo.demo.factories import make_company, make_user
from hiveo.extensions import db
from hiveo.mail.outbox import wait_for_sends
from tests.e2e.conftest import axe_violations
from tests.helpers import PASSWORD

INVITEE = "nina.nouvelle@example.com"
NEW_PASSWORD = "une phrase de passe solide"


@pytest.fixture
def live_overrides(mail_server):
    return {"SMTP_URL": mail_server.url}


@pytest.fixture
def world(live_app, live_server):
    live_app.config["BASE_URL"] = live_server.url
    with live_app.app_context():
        acme = make_company("Acme Nettoyage", siren="732829320", establishments=2)
        make_user("alice@example.com", name="Alice Admin", profile="fast",
                  memberships=((acme, "admin"),))
        db.session.commit()


def sign_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()


def sign_out(page) -> None:
    page.locator("summary[aria-label='Menu du profil']").click()
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()


def invitation_link(app, mail_server) -> str:
    deadline = time.monotonic() + 10
    while not mail_server.to(INVITEE) and time.monotonic() < deadline:
        wait_for_sends(app)
        time.sleep(0.05)
    [received] = mail_server.to(INVITEE)
    assert received.subject == "Invitation à rejoindre Acme Nettoyage sur hiveo"
    [link] = [link for link in received.links() if "/invitation/" in link]
    return link


def invite_create_and_sign_in(page, app, base_url: str, mail_server, *, javascript: bool
                              ) -> None:
    sign_in(page, base_url, "alice@example.com", PASSWORD)
    expect(page.get_by_role("heading", name="Acme Nettoyage", level=1)).to_be_visible()
    members = page.locator("#membres")
    expect(members.get_by_role("cell", name="Alice Admin (vous)")).to_be_visible()
    members.get_by_label("Adresse e-mail").fill(INVITEE)
    members.get_by_label("Rôle", exact=True).select_option("member")
    members.get_by_role("button", name="Inviter").click()
    expect(page.get_by_text(f"Invitation envoyée à {INVITEE}.")).to_be_visible()
    expect(page.locator("#membres").get_by_text(INVITEE).first).to_be_visible()
    if javascript:  # axe-core runs in the page
        assert axe_violations(page, include="#membres") == []
    sign_out(page)

    link = invitation_link(app, mail_server)
    assert link.startswith(base_url + "/invitation/")
    page.goto(link)
    expect(page.get_by_role("heading", name="Créer votre compte")).to_be_visible()
    expect(page.get_by_text(INVITEE)).to_be_visible()
    if javascript:
        assert axe_violations(page) == []
    page.get_by_label("Votre nom").fill("Nina Nouvelle")
    page.get_by_label("Mot de passe", exact=True).fill("court")
    page.get_by_label("Confirmez le mot de passe").fill("court")
    page.get_by_role("button", name=re.compile("Créer mon compte")).click()
    expect(page.get_by_text("Le mot de passe doit comporter au moins 12 caractères")
           ).to_be_visible()
    page.get_by_label("Mot de passe", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirmez le mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name=re.compile("Créer mon compte")).click()
    expect(page.get_by_text("Votre compte est créé et vous avez rejoint Acme Nettoyage")
           ).to_be_visible()
    expect(page.get_by_role("heading", name="Acme Nettoyage", level=1)).to_be_visible()
    expect(page.locator("#membres").get_by_role("cell", name="Nina Nouvelle (vous)")
           ).to_be_visible()

    sign_out(page)
    # The link served once (asked outside the page: Chromium logs every 4xx as an error).
    with pytest.raises(urllib.error.HTTPError) as used:
        urllib.request.urlopen(link, timeout=10)
    assert used.value.code == 410 and "déjà servi" in html.unescape(used.value.read().decode())
    sign_in(page, base_url, INVITEE, NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Acme Nettoyage", level=1)).to_be_visible()
    expect(page.get_by_text("Seuls les administrateurs")).to_be_visible()


def test_invitation_with_javascript(watched_page, live_app, live_server, world, mail_server):
    invite_create_and_sign_in(watched_page, live_app, live_server.url, mail_server,
                              javascript=True)


def test_invitation_without_javascript(no_js_page, live_app, live_server, world, mail_server):
    invite_create_and_sign_in(no_js_page, live_app, live_server.url, mail_server,
                              javascript=False)
