"""A supplier answers a client's invitation on "Mes clients", with and without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from hiveo.demo.factories import make_company, make_document, make_relation, make_user
from hiveo.extensions import db
from tests.conftest import TODAY
from tests.e2e.conftest import axe_violations
from tests.e2e.test_dossier_flow import sign_in


@pytest.fixture
def world(live_app):
    with live_app.app_context():
        supplier = make_company("Propreté Services", siren="732829320", establishments=2)
        make_user("sophie@example.com", name="Sophie Durand", profile="fast",
                  memberships=((supplier, "admin"),))
        make_relation(make_company("Initech Services"), supplier, state="invited")
        make_relation(make_company("Umbrella Corp"), supplier, state="suspended",
                      reason="Audit qualité en cours")
        make_document(supplier, "KBIS", issue_date=TODAY)
        db.session.commit()


def test_accept_an_invitation_in_a_dialog(watched_page, live_server, world):
    page = watched_page
    sign_in(page, live_server.url, "sophie@example.com")
    page.goto(live_server.url + "/organisations/732829320/clients")
    expect(page.get_by_text("Audit qualité en cours", exact=True)).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name=re.compile("^Accepter")).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("link", name="Annuler")).to_be_focused()
    assert axe_violations(page) == []
    dialog.get_by_role("button", name="Confirmer").click()
    expect(page.get_by_text("Initech Services suit désormais votre dossier")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Invitations en attente"))).to_have_count(0)
    # Initech now requires the legal dossier: the Documents tab names it.
    page.goto(live_server.url + "/organisations/732829320/documents")
    expect(page.get_by_text("Exigé par Initech Services").first).to_be_visible()
    assert axe_violations(page) == []


def test_decline_without_javascript(no_js_page, live_server, world):
    page = no_js_page
    sign_in(page, live_server.url, "sophie@example.com")
    page.goto(live_server.url + "/organisations/732829320/clients")
    page.get_by_role("button", name=re.compile("^Décliner")).click()
    expect(page.get_by_role("heading", name=re.compile("Décliner l.invitation"))).to_be_visible()
    page.get_by_label("Raison").fill("Nous ne travaillons pas dans cette région.")
    page.get_by_role("button", name="Confirmer").click()
    expect(page.get_by_text("Invitation de Initech Services déclinée.")).to_be_visible()
    expect(page.get_by_text("Nous ne travaillons pas dans cette région.").first).to_be_visible()
