"""The operators' pages and commands: companies and their role, new clients, suspensions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from stdnum import luhn

from hiveo.extensions import db
from hiveo.mail.outbox import wait_for_sends
from hiveo.models import AuditEvent, Company, Invitation, Requirement, User
from tests.helpers import count_queries, login, page_text, post

ACME = "732829320"


def siren(n: int) -> str:
    base = f"5{n:07d}"
    return base + luhn.calc_check_digit(base)


@pytest.fixture
def app_overrides(request) -> dict:
    overrides = {"BASE_URL": "http://portail.example"}
    if "mail_server" in request.fixturenames:
        overrides["SMTP_URL"] = request.getfixturevalue("mail_server").url
    return overrides


@pytest.fixture
def olivia(client, cast):
    login(client, cast.olivia)
    return client


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def visible(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())


def company(app, number: str) -> Company | None:
    with app.app_context():
        return db.session.scalar(select(Company).where(Company.siren == number))


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


# --- companies and their role ---

def test_every_company_is_listed_with_its_role_and_members(app, olivia, cast):
    from hiveo.demo.factories import make_company, make_relation

    with app.app_context():
        acme = db.session.get(Company, cast.acme_id)
        globex = db.session.get(Company, cast.globex_id)
        initech = make_company("Initech Services")
        make_relation(initech, acme)  # Initech: client; Acme: supplier
        make_relation(acme, globex)  # Acme: both
        db.session.commit()
    text = visible(olivia.get("/operateur/entreprises"))
    assert "3 entreprises" in text
    assert re.search(r"Acme Nettoyage 732 829 320 les deux 2 \(dont 1 administrateur\)", text)
    assert re.search(r"Globex Bâtiment \d{3} \d{3} \d{3} fournisseur 1", text)
    assert re.search(r"Initech Services \d{3} \d{3} \d{3} client 0 \(aucun compte\)", text)
    only_clients = visible(olivia.get("/operateur/entreprises?role=client"))
    assert "Initech" in only_clients and "Acme" in only_clients and "Globex" not in only_clients
    assert "Globex" in visible(olivia.get("/operateur/entreprises?role=supplier"))
    assert "1 entreprise" in visible(olivia.get("/operateur/entreprises?q=732 829"))


def test_the_companies_list_costs_the_same_statements_for_3_and_60_companies(app, olivia):
    from hiveo.demo.factories import make_company

    def statements() -> int:
        with count_queries(app) as seen:
            assert olivia.get("/operateur/entreprises").status_code == 200
        return len(seen)

    few = statements()
    with app.app_context():
        for n in range(60):
            make_company(f"Entreprise {n:02d}")
        db.session.commit()
    assert statements() == few


def test_the_operator_tab_leads_to_the_companies(olivia):
    html = olivia.get("/operateur/entreprises").get_data(as_text=True)
    assert re.search(r'<a href="/operateur/entreprises" aria-current="page">Entreprises</a>', html)


@pytest.mark.parametrize("path", ["/operateur/entreprises", "/operateur/entreprises/nouveau-client",
                                  "/operateur/comptes"])
def test_other_people_get_403(client, cast, path):
    login(client, cast.alice)
    assert client.get(path).status_code == 403
    bob = user_id(client.application, cast.bob)
    assert post(client, f"/operateur/comptes/{bob}/suspendre").status_code == 403
    with client.application.app_context():
        assert db.session.get(User, bob).suspended_at is None


# --- a new client company and its first admin ---

def test_an_operator_creates_a_client_company_and_invites_its_first_admin(
        app, olivia, mail_server):
    number = siren(1)
    response = post(olivia, "/operateur/entreprises/nouveau-client",
                    {"siren": f"{number[:3]} {number[3:6]} {number[6:]}", "name": "Initech",
                     "email": "Patron@Initech.example"})
    assert response.status_code == 303
    wait_for_sends(app)
    text = visible(olivia.get(response.headers["Location"]))
    assert "Initech créée comme client. Invitation envoyée à patron@initech.example" in text
    created = company(app, number)
    assert created is not None and created.is_client
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        assert (invitation.company_id, invitation.role) == (created.id, "admin")
        assert set(db.session.scalars(select(Requirement.doc_type).where(
            Requirement.client_id == created.id))) == {"KBIS", "URSSAF_VIGILANCE", "LNTE"}
        assert db.session.scalar(select(AuditEvent.action).where(
            AuditEvent.company_id == created.id, AuditEvent.action == "company.made_client"))
    [received] = mail_server.to("patron@initech.example")
    assert "Initech" in received.subject and any("/invitation/" in x for x in received.links())


def test_an_existing_company_becomes_a_client_and_keeps_its_name(app, olivia, cast):
    response = post(olivia, "/operateur/entreprises/nouveau-client",
                    {"siren": ACME, "name": "", "email": ""})
    assert response.status_code == 303
    acme = company(app, ACME)
    assert acme.is_client and acme.name == "Acme Nettoyage"


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"siren": "732829321", "name": "X"}, "siren", "clé de contrôle"),
    ({"siren": "", "name": "X"}, "siren", "obligatoire"),
    ({"siren": "NEW", "name": ""}, "name", "nom de l'entreprise est obligatoire"),
    ({"siren": "NEW", "name": "X", "email": "pas-une-adresse"}, "email", "n'est pas valide"),
    ({"siren": "NEW", "name": "X", "email": ""}, "email", "premier administrateur est obligatoire"),
    ({"siren": ACME, "name": "", "email": "alice@example.com"}, "email", "déjà membre"),
])
def test_new_client_refusals_are_on_their_field_and_write_nothing(
        app, olivia, cast, fields, field, message):
    if fields["siren"] == "NEW":
        fields = {**fields, "siren": siren(2)}
    response = post(olivia, "/operateur/entreprises/nouveau-client", {"email": "", **fields})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = re.search(rf'id="{field}-errors">(.*?)</ul>', html, re.S)
    assert errors and message in page_text_plain(errors.group(1))
    with app.app_context():
        assert db.session.scalar(select(func.count(Company.id))) == 2
        assert not db.session.scalar(select(Company.is_client).where(Company.siren == ACME))
        assert db.session.scalar(select(func.count(Invitation.id))) == 0


def page_text_plain(html: str) -> str:
    from html import unescape

    return unescape(html).replace("\u00a0", " ").replace("\u2019", "'")


# --- suspending an account ---

def test_a_suspended_account_cannot_sign_in_and_its_open_session_ends(app, olivia, cast):
    bob_client = app.test_client()
    login(bob_client, cast.bob)
    assert bob_client.get(f"/organisations/{ACME}").status_code == 200
    bob = user_id(app, cast.bob)
    confirm = olivia.get(f"/operateur/comptes/{bob}/suspendre")
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert html.index("Annuler") < html.index("Suspendre le compte</button>")
    response = post(olivia, f"/operateur/comptes/{bob}/suspendre")
    assert response.status_code == 303
    assert "Le compte bob@example.com est suspendu" in visible(
        olivia.get(response.headers["Location"]))
    # Bob's open session ends at his next request.
    after = bob_client.get(f"/organisations/{ACME}")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    refused = login(bob_client, cast.bob)
    assert refused.status_code == 422
    assert "Ce compte est suspendu" in page_text(refused)
    # A wrong password says nothing about the suspension.
    assert "suspendu" not in page_text(login(bob_client, cast.bob, "pas le bon mot de passe"))
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "account.suspended"))
        assert event.details == {"email": cast.bob}
        assert event.user_id == user_id(app, cast.olivia)


def test_a_restored_account_signs_in_again(app, olivia, cast):
    bob = user_id(app, cast.bob)
    post(olivia, f"/operateur/comptes/{bob}/suspendre")
    text = visible(olivia.get("/operateur/comptes?q=bob"))
    assert "suspendu le" in text and "Rétablir" in text
    response = post(olivia, f"/operateur/comptes/{bob}/retablir")
    assert response.status_code == 303
    assert "est rétabli" in visible(olivia.get(response.headers["Location"]))
    bob_client = app.test_client()
    assert login(bob_client, cast.bob).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "account.restored")) == 1


def test_an_operator_cannot_suspend_their_own_account(app, olivia, cast):
    me = user_id(app, cast.olivia)
    response = post(olivia, f"/operateur/comptes/{me}/suspendre")
    assert response.status_code == 303
    assert "votre propre compte" in visible(olivia.get(response.headers["Location"]))
    with app.app_context():
        assert db.session.get(User, me).suspended_at is None


def test_an_unknown_account_is_404(olivia):
    assert olivia.get("/operateur/comptes/999999/suspendre").status_code == 404


# --- the command line, through the same functions ---

def test_companies_add_client_creates_a_client_or_marks_an_existing_one(app, runner, cast):
    number = siren(3)
    result = runner.invoke(args=["companies", "add", number, "--name", "Hooli", "--client"])
    assert result.exit_code == 0, result.output
    assert "(cliente)" in result.output and company(app, number).is_client
    result = runner.invoke(args=["companies", "add", ACME, "--client"])
    assert result.exit_code == 0, result.output
    assert "Entreprise cliente : Acme Nettoyage" in result.output
    assert company(app, ACME).is_client
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "company.made_client")) == 2
    refused = runner.invoke(args=["companies", "add", siren(4), "--client"])
    assert refused.exit_code != 0 and "nom de l'entreprise est obligatoire" in refused.output


def test_users_suspend_and_restore_from_the_command_line(app, runner, cast):
    bob_client = app.test_client()
    login(bob_client, cast.bob)
    result = runner.invoke(args=["users", "suspend", "Bob@Example.com"])
    assert result.exit_code == 0, result.output
    assert bob_client.get(f"/organisations/{ACME}").status_code == 302
    assert "Ce compte est suspendu" in page_text(login(bob_client, cast.bob))
    again = runner.invoke(args=["users", "suspend", cast.bob])
    assert again.exit_code != 0 and "déjà suspendu" in again.output
    result = runner.invoke(args=["users", "restore", cast.bob])
    assert result.exit_code == 0, result.output
    assert login(bob_client, cast.bob).status_code == 303
    unknown = runner.invoke(args=["users", "suspend", "nobody@example.com"])
    assert unknown.exit_code != 0 and "Aucun compte" in unknown.output
