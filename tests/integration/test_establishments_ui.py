"""Establishments from the interface: add by SIRET, edit, close (kept, hidden), admins only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hiveo.extensions import db
from hiveo.models import AuditEvent, Establishment
from tests.helpers import login, page_text, post

ACME = "732829320"
PAGE = f"/organisations/{ACME}"


def add(client, siret: str, name: str = "Dépôt de Lyon", **fields):
    return post(client, f"{PAGE}/etablissements/ajouter",
                {"siret": siret, "name": name, "address": "3 quai Rambaud",
                 "postal_code": "69002", "city": "Lyon", **fields}, page=PAGE)


def test_an_admin_adds_an_establishment_by_siret_with_spaces(app, client, cast):
    login(client, cast.alice)
    assert "Ajouter un établissement" in page_text(client.get(PAGE))
    response = add(client, "732 829 320 00074")
    assert response.status_code == 303
    text = page_text(client.get(PAGE))
    assert "Dépôt de Lyon" in text and "732 829 320 00074" in text
    with app.app_context():
        row = db.session.scalar(select(Establishment).where(
            Establishment.siret == "73282932000074"))
        assert row.city == "Lyon" and row.closed_at is None
        assert db.session.scalar(select(AuditEvent.action).where(
            AuditEvent.action == "establishment.added"))


@pytest.mark.parametrize(("siret", "message"), [
    ("73282932000079", "la clé de contrôle ne correspond pas"),
    ("7328293200007", "doit comporter 14 chiffres"),
    ("7328293200007A", "ne doit contenir que des chiffres"),
    ("35600000009075", "n'appartient pas à l'entreprise de SIREN 732 829 320"),
    ("", "Ce champ est obligatoire"),
])
def test_a_bad_siret_is_refused_naming_the_rule(client, cast, siret, message):
    login(client, cast.alice)
    response = add(client, siret)
    assert response.status_code == 422 and message in page_text(response)


def test_a_siret_already_registered_is_refused(client, cast):
    login(client, cast.alice)
    assert add(client, "73282932000074").status_code == 303
    again = add(client, "73282932000074", name="Autre")
    assert again.status_code == 422 and "existe déjà" in page_text(again)


def test_an_admin_edits_name_and_address_but_not_the_siret(app, client, cast):
    login(client, cast.alice)
    with app.app_context():
        siret = db.session.scalar(select(Establishment.siret).where(
            Establishment.company_id == cast.acme_id).order_by(Establishment.siret))
    form = client.get(f"{PAGE}/etablissements/{siret}/modifier")
    assert form.status_code == 200 and "le SIRET ne change pas" in page_text(form)
    empty = post(client, f"{PAGE}/etablissements/{siret}/modifier", {"name": " "}, page=PAGE)
    assert empty.status_code == 422
    done = post(client, f"{PAGE}/etablissements/{siret}/modifier",
                {"name": "Agence de Nantes", "address": "1 rue Crébillon",
                 "postal_code": "44000", "city": "Nantes", "siret": "00000000000000"},
                page=PAGE)
    assert done.status_code == 303
    assert "Agence de Nantes" in page_text(client.get(PAGE + "?q=nantes"))
    with app.app_context():
        row = db.session.scalar(select(Establishment).where(Establishment.siret == siret))
        assert (row.name, row.city) == ("Agence de Nantes", "Nantes")


def test_closing_keeps_the_establishment_hides_it_by_default_and_can_be_undone(
        app, client, cast):
    login(client, cast.alice)
    with app.app_context():
        first = db.session.scalar(select(Establishment).where(
            Establishment.company_id == cast.acme_id).order_by(Establishment.siret))
        siret, name = first.siret, first.name
    confirm = client.get(f"{PAGE}/etablissements/{siret}/fermer")
    assert confirm.status_code == 200 and "Rien n'est supprimé" in page_text(confirm)
    assert post(client, f"{PAGE}/etablissements/{siret}/fermer", page=PAGE).status_code == 303
    assert "est fermé" in page_text(client.get(PAGE))  # the message, once
    assert name not in page_text(client.get(PAGE))
    shown = page_text(client.get(PAGE + "?fermes=1"))
    assert name in shown and "fermé" in shown
    with app.app_context():
        assert db.session.scalar(select(Establishment.closed_at).where(
            Establishment.siret == siret)) is not None
    assert post(client, f"{PAGE}/etablissements/{siret}/fermer", page=PAGE).status_code == 303
    assert name in page_text(client.get(PAGE))
    history = [row for row in _actions(app) if row.startswith("establishment.")]
    assert history == ["establishment.closed", "establishment.reopened"]


def _actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_members_cannot_change_establishments_and_see_no_button(app, client, cast):
    login(client, cast.bob)
    assert "Ajouter un établissement" not in page_text(client.get(PAGE))
    assert add(client, "73282932000074").status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Establishment.id).where(
            Establishment.siret == "73282932000074")) is None


def test_another_companys_establishment_is_not_found(app, client, cast):
    login(client, cast.alice)
    with app.app_context():
        foreign = db.session.scalar(select(Establishment.siret).where(
            Establishment.company_id == cast.globex_id))
    assert client.get(f"{PAGE}/etablissements/{foreign}/modifier").status_code == 404
    assert post(client, f"{PAGE}/etablissements/{foreign}/fermer", page=PAGE).status_code == 404
