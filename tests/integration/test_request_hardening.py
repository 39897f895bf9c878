"""Sessions and requests: CSRF on every POST, headers on every answer, French error pages."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from hiveo.demo.factories import make_document
from hiveo.extensions import db
from hiveo.models import Company, ProviderLink
from tests.helpers import fetch_csrf, login, page_text

VALUES = {"siren": "732829320", "siret": "73282932000017", "provider": "attestation_legale",
          "action": "desactiver", "filename": "css/app.css",
          # CSRF is checked before anything else: these need not exist.
          "membership_id": 1, "invitation_id": 1, "token": "un-lien",
          "supplier": "552100554", "relation_id": 1, "answer": "accepter", "user_id": 1}


@pytest.fixture
def world(app, cast):
    with app.app_context():
        acme = db.session.scalar(select(Company).where(Company.siren == cast.acme))
        db.session.add(ProviderLink(company_id=acme.id, provider="attestation_legale",
                                    linked=True, sync_enabled=True))
        document = make_document(acme, "KBIS", issue_date=date(2026, 11, 1), validated=False)
        db.session.commit()
        return {**VALUES, "document_id": document.id}


def post_routes(app, values):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods:
            yield rule.build({k: v for k, v in values.items() if k in rule.arguments},
                             append_unknown=False)[1]


@pytest.mark.parametrize("who", ["alice@example.com", "olivia@example.com"])
def test_every_post_needs_this_sessions_csrf_token(app, world, who):
    other = app.test_client()
    login(other, "bob@example.com")
    foreign_token = fetch_csrf(other, "/organisations")
    client = app.test_client()
    login(client, who)
    for path in post_routes(app, world):
        for headers, data in (({}, {}), ({"HX-Request": "true"}, {}),
                              ({}, {"csrf_token": foreign_token}),
                              ({"HX-Request": "true", "X-CSRFToken": foreign_token}, {}),
                              ({}, {"csrf_token": "forged"})):
            response = client.post(path, data=data, headers=headers)
            assert response.status_code == 400, (path, headers, data)
    # Nothing happened: still signed in, the switch still on, the upload still pending.
    assert client.get("/organisations").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(ProviderLink.sync_enabled)) is True


REQUIRED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def assert_hardened(response) -> None:
    for name, value in REQUIRED_HEADERS.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp


def assert_french_error(response, status: int, title: str) -> None:
    html = page_text(response)
    assert response.status_code == status
    assert title in html
    assert '<html lang="fr">' in html
    assert not re.search(r"Traceback|File \"|sqlalchemy|SELECT |werkzeug|psycopg", html, re.I)
    assert_hardened(response)


def test_error_pages_are_french_and_hardened(app, world, cast):
    client = app.test_client()
    login(client, "bob@example.com")
    assert_french_error(client.get("/nowhere"), 404, "Page introuvable")
    assert_french_error(client.get("/logout"), 405, "Méthode non autorisée")
    assert_french_error(client.post("/logout"), 400, "Requête invalide")
    assert_french_error(
        client.get("/organisations/732829320/synchronisation/attestation_legale/desactiver"),
        403, "Réservé aux administrateurs")
    app.config["MAX_CONTENT_LENGTH"] = 1000
    token = fetch_csrf(client, "/organisations")
    assert_french_error(client.post(f"/organisations/{cast.acme}/documents/deposer",
                                    data={"csrf_token": token, "x": "y" * 2000}),
                        413, "Fichier trop volumineux")


def test_an_unexpected_error_shows_a_french_page_without_internals(app, cast):
    app.config["PROPAGATE_UNEXPECTED_ERRORS"] = False

    def explode():
        db.session.execute(db.text("SELECT * FROM no_such_table"))

    app.add_url_rule("/boom", "boom", explode)
    client = app.test_client()
    response = client.get("/boom")
    assert_french_error(response, 500, "Erreur interne")
    htmx = client.get("/boom", headers={"HX-Request": "true"})
    assert htmx.status_code == 500
    assert htmx.mimetype == "text/plain"
    assert "no_such_table" not in htmx.get_data(as_text=True)


def test_downloads_and_previews_carry_the_headers_too(app, world, cast):
    client = app.test_client()
    login(client, "bob@example.com")
    download = client.get(f"/organisations/{cast.acme}/documents/{world['document_id']}/fichier")
    assert download.status_code == 200
    assert_hardened(download)
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()
    login(client, "olivia@example.com")
    preview = client.get(f"/operateur/documents/{world['document_id']}/apercu")
    assert_hardened(preview)
    assert "sandbox" in preview.headers["Content-Security-Policy"]
    preview.close()


def test_throttled_logins_answer_429_in_french(app, cast):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    client = app.test_client()
    token = fetch_csrf(client)
    for _ in range(2):
        client.post("/login", data={"email": "x@example.com", "password": "x",
                                    "csrf_token": token})
    response = client.post("/login", data={"email": "x@example.com", "password": "x",
                                           "csrf_token": token})
    assert_french_error(response, 429, "Trop de tentatives")


def test_pages_are_not_cached_and_vary_on_htmx(app, world, cast):
    client = app.test_client()
    login(client, "bob@example.com")
    for path in ("/organisations", f"/organisations/{cast.acme}/documents"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store"
        assert "HX-Request" in response.headers["Vary"]
