"""The operators' command line: companies, establishments, users."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hiveo.extensions import db
from hiveo.models import Company, Establishment, Membership, User


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_companies_add_accepts_spaces_and_prints_the_formatted_siren(app, runner):
    result = runner.invoke(args=["companies", "add", "732 829 320", "--name", "Acme"])
    assert result.exit_code == 0, result.output
    assert "SIREN 732 829 320" in result.output
    assert count(app, Company) == 1


@pytest.mark.parametrize(
    ("siren", "message"),
    [
        ("73282932", "9 chiffres"),
        ("73282932X", "que des chiffres"),
        ("732829321", "clé de contrôle"),
    ],
)
def test_companies_add_refuses_bad_sirens_and_changes_nothing(app, runner, siren, message):
    result = runner.invoke(args=["companies", "add", siren, "--name", "Acme"])
    assert result.exit_code != 0
    assert message in result.output
    assert count(app, Company) == 0


def test_companies_add_refuses_duplicates(app, runner):
    runner.invoke(args=["companies", "add", "732829320", "--name", "Acme"])
    result = runner.invoke(args=["companies", "add", "732829320", "--name", "Acme bis"])
    assert result.exit_code != 0
    assert "existe déjà" in result.output
    assert count(app, Company) == 1


def test_establishments_add_finds_the_company_from_the_siret(app, runner):
    runner.invoke(args=["companies", "add", "732829320", "--name", "Acme"])
    result = runner.invoke(
        args=["establishments", "add", "732 829 320 00074", "--name", "Siège",
              "--address", "1 rue de Paris", "--postal-code", "75001", "--city", "Paris"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        establishment = db.session.scalar(select(Establishment))
        assert establishment.siret == "73282932000074"
        assert establishment.city == "Paris"


def test_establishments_add_needs_an_existing_company(app, runner):
    result = runner.invoke(args=["establishments", "add", "73282932000074", "--name", "Siège"])
    assert result.exit_code != 0
    assert "créez-la d'abord" in result.output
    assert count(app, Establishment) == 0


def test_establishments_add_refuses_a_bad_checksum(app, runner):
    runner.invoke(args=["companies", "add", "732829320", "--name", "Acme"])
    result = runner.invoke(args=["establishments", "add", "73282932000079", "--name", "X"])
    assert result.exit_code != 0
    assert "clé de contrôle" in result.output
    assert count(app, Establishment) == 0


def test_users_add_with_company_and_role(app, runner):
    runner.invoke(args=["companies", "add", "732829320", "--name", "Acme"])
    result = runner.invoke(
        args=["users", "add", "Marie@Example.com", "--password", "un mot de passe",
              "--name", "Marie Dupont", "--company", "732829320", "--role", "admin"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "marie@example.com"
        membership = db.session.scalar(select(Membership))
        assert membership.role == "admin"


def test_users_add_operator(app, runner):
    result = runner.invoke(
        args=["users", "add", "op@example.com", "--password", "un mot de passe", "--operator"]
    )
    assert result.exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(User.is_operator))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not-an-email", "--password", "un mot de passe"], "n'est pas valide"),
        (["a@example.com", "--password", "court"], "12 caractères"),
        (["a@example.com", "--password", "un mot de passe", "--company", "999999999"],
         "clé de contrôle"),
        (["a@example.com", "--password", "un mot de passe", "--company", "732829320"],
         "Aucune entreprise"),
        (["a@example.com", "--password", "un mot de passe", "--role", "admin"],
         "--company"),
    ],
)
def test_users_add_refuses_bad_input_and_creates_nothing(app, runner, args, message):
    result = runner.invoke(args=["users", "add", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert count(app, User) == 0


def test_users_add_refuses_an_existing_email(app, runner):
    runner.invoke(args=["users", "add", "a@example.com", "--password", "un mot de passe"])
    result = runner.invoke(args=["users", "add", "A@example.com", "--password", "un autre mdp!"])
    assert result.exit_code != 0
    assert "existe déjà" in result.output


def test_demo_load_fills_an_empty_database_once(app, runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "marie.dupont@horizon-proprete.fr" in first.output
    assert "julie.moreau@fonciere-rhone.fr" in first.output
    companies = count(app, Company)
    assert companies > 150  # the 5 demo companies, 2 clients, their generated suppliers
    assert count(app, Establishment) >= 50 + 150
    second = runner.invoke(args=["demo", "load"])
    assert "rien n'a été chargé" in second.output
    assert count(app, Company) == companies


def test_users_set_password_changes_it_and_signs_the_user_out(app, runner, cast):
    from tests.helpers import login

    client = app.test_client()
    login(client, cast.bob)
    result = runner.invoke(args=["users", "set-password", "BOB@example.com",
                                 "--password", "un tout nouveau mot"])
    assert result.exit_code == 0, result.output
    assert "sessions ouvertes sont fermées" in result.output
    assert client.get("/organisations").status_code == 302
    assert login(app.test_client(), cast.bob, "un tout nouveau mot").status_code == 303


@pytest.mark.parametrize(("email", "password", "message"), [
    ("nobody@example.com", "un mot de passe long", "Aucun compte"),
    ("bob@example.com", "court", "12 caractères"),
])
def test_users_set_password_refuses_bad_input(app, runner, cast, email, password, message):
    result = runner.invoke(args=["users", "set-password", email, "--password", password])
    assert result.exit_code != 0
    assert message in result.output
