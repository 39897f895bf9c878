"""A client invites its suppliers: one by the form, many by a CSV file."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select
from stdnum import luhn

from hiveo.extensions import db
from hiveo.mail.outbox import wait_for_sends
from hiveo.models import (
    Company,
    Establishment,
    Invitation,
    Membership,
    OutboxMessage,
    Relation,
    RelationEstablishment,
    User,
)
from hiveo.relations.invitations import (
    ImportFileError,
    import_suppliers,
    parse_csv,
)
from tests.helpers import fetch_csrf, login, page_text, post

ACME = "732829320"
ACME_SIRET = "73282932000017"
INVITE = "/organisations/{siren}/fournisseurs/inviter"
IMPORT = "/organisations/{siren}/fournisseurs/importer"


def siren(n: int) -> str:
    base = f"4{n:07d}"
    return base + luhn.calc_check_digit(base)


def siret(siren_: str, n: int = 1) -> str:
    base = f"{siren_}{n:04d}"
    return base + luhn.calc_check_digit(base)


@pytest.fixture
def app_overrides(request) -> dict:
    overrides = {"BASE_URL": "http://portail.example"}
    if "mail_server" in request.fixturenames:
        overrides["SMTP_URL"] = request.getfixturevalue("mail_server").url
    return overrides


@pytest.fixture
def initech(app, cast) -> str:
    """Initech, a client-to-be: dan its admin, erin a member. Acme (alice, bob) exists."""
    from hiveo.demo.factories import make_company, make_user

    with app.app_context():
        company = make_company("Initech Services", establishments=1)
        make_user("dan@example.com", name="Dan Donneur", profile="fast",
                  memberships=((company, "admin"),))
        make_user("erin@example.com", name="Erin Acheteuse", profile="fast",
                  memberships=((company, "member"),))
        db.session.commit()
        return company.siren


@pytest.fixture
def dan(client, initech):
    login(client, "dan@example.com")
    return client


def invite(client, initech: str, **fields):
    data = {"siren": "", "name": "", "email": "", "supplier_code": "", "contract_ref": "",
            "category": "", "description": "", "tracking_end": "", **fields}
    return post(client, INVITE.format(siren=initech), data, page=INVITE.format(siren=initech))


def relations(app) -> list[Relation]:
    with app.app_context():
        return list(db.session.scalars(select(Relation).order_by(Relation.id)))


def outbox(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return list(db.session.execute(
            select(OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.text_body)
            .order_by(OutboxMessage.id)).all())


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def field_errors(response, name: str) -> str:
    html = response.get_data(as_text=True)
    match = re.search(rf'<ul class="field-errors" id="{name}-errors">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


# --- one supplier, by the form ---

def test_the_form_has_the_shared_labels(dan, initech):
    text = page_text(dan.get(INVITE.format(siren=initech)))
    for label in ("SIREN ou SIRET", "Raison sociale", "E-mail du contact", "Code fournisseur",
                  "Référence du contrat", "Catégorie d'achat", "Description", "Fin de suivi",
                  "Envoyer l'invitation"):
        assert label in text


def test_a_company_already_on_the_portal_is_invited_and_its_admins_are_told(app, dan, initech):
    response = invite(dan, initech, siren=ACME, email="alice@example.com",
                      supplier_code="F-1", contract_ref="CT-9", category="Nettoyage",
                      tracking_end="2027-12-31")
    assert response.status_code == 303
    [relation] = relations(app)
    assert relation.state == "invited" and relation.supplier_code == "F-1"
    assert relation.contact_email == "alice@example.com"
    assert str(relation.tracking_end) == "2027-12-31"
    [(kind, recipient, body)] = outbox(app)
    assert (kind, recipient) == ("relation_invitation", "alice@example.com")
    assert "Initech Services" in body and f"/organisations/{ACME}/clients" in body
    assert count(app, Invitation) == 0  # nobody joins Acme: its admins answer
    text = page_text(dan.get(response.headers["Location"]))
    assert "ses administrateurs sont prévenus" in text


def test_a_contact_who_is_not_an_admin_is_told_that_only_the_admins_can_answer(
        app, dan, initech):
    assert invite(dan, initech, siren=ACME, email="Compta@Acme.example").status_code == 303
    messages = {recipient: body for _kind, recipient, body in outbox(app)}
    assert set(messages) == {"alice@example.com", "compta@acme.example"}
    assert "Seuls les administrateurs" in messages["compta@acme.example"]
    assert "accepter ou décliner" in messages["alice@example.com"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(
            User.email == "compta@acme.example")) == 0
    assert count(app, Invitation) == 0


def test_an_unknown_company_is_created_and_its_contact_invited_as_admin(
        app, dan, initech, mail_server):
    new = siren(11)
    response = invite(dan, initech, siren=new, name="Nouvelle Propreté",
                      email="gerante@nouvelle.example")
    assert response.status_code == 303
    wait_for_sends(app)
    with app.app_context():
        company = db.session.scalar(select(Company).where(Company.siren == new))
        assert company is not None and company.name == "Nouvelle Propreté"
        invitation = db.session.scalar(select(Invitation))
        assert (invitation.company_id, invitation.email, invitation.role) == (
            company.id, "gerante@nouvelle.example", "admin")
    [relation] = relations(app)
    assert relation.state == "invited"
    received = mail_server.to("gerante@nouvelle.example")[-1]
    assert "Initech Services" in received.subject and "Nouvelle Propreté" in received.subject
    assert "documents de conformité" in received.text
    [link] = [link for link in received.links() if "/invitation/" in link]
    # The contact creates the account and is the new company's admin.
    path = link.removeprefix("http://portail.example")
    dan.delete_cookie("hiveo_session")
    token = fetch_csrf(dan, path)
    answer = dan.post(path, data={"csrf_token": token, "name": "Gérante",
                                  "password": "une phrase assez longue",
                                  "confirm_password": "une phrase assez longue"})
    assert answer.status_code == 303
    with app.app_context():
        role = db.session.scalar(select(Membership.role).join(User).where(
            User.email == "gerante@nouvelle.example"))
    assert role == "admin"


def test_a_company_on_the_portal_with_no_admin_yet_gets_its_contact_invited_as_admin(
        app, dan, initech):
    from hiveo.demo.factories import make_company

    with app.app_context():
        lonely = make_company("Sans Compte").siren
        db.session.commit()
    assert invite(dan, initech, siren=lonely, email="chef@sans.example").status_code == 303
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        assert (invitation.email, invitation.role) == ("chef@sans.example", "admin")
    [(kind, recipient, body)] = outbox(app)
    assert (kind, recipient) == ("invitation", "chef@sans.example")
    assert "Initech Services" in body


def test_a_closed_relation_is_reopened_by_a_new_invitation_and_audited(app, dan, initech):
    from hiveo.demo.factories import make_relation
    from hiveo.models import AuditEvent, RelationEvent

    with app.app_context():
        client_company = db.session.scalar(select(Company).where(Company.siren == initech))
        acme = db.session.scalar(select(Company).where(Company.siren == ACME))
        make_relation(client_company, acme, state="closed", reason="Fin du contrat")
        client_id = client_company.id
        db.session.commit()
    assert invite(dan, initech, siren=ACME, email="alice@example.com").status_code == 303
    [relation] = relations(app)
    assert relation.state == "invited"
    with app.app_context():
        actions = list(db.session.scalars(select(RelationEvent.action)
                                          .order_by(RelationEvent.id)))
        assert actions[-1] == "reinvited"
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "supplier.invited"))
        assert event.company_id == client_id
        assert event.details["siren"] == ACME and event.details["created"] is False


def test_a_siret_narrows_the_relation_to_that_establishment(app, dan, initech):
    assert invite(dan, initech, siren=ACME_SIRET, email="alice@example.com").status_code == 303
    new = siren(12)
    assert invite(dan, initech, siren=siret(new, 3), name="Garage Neuf",
                  email="garage@neuf.example").status_code == 303
    with app.app_context():
        scoped = dict(db.session.execute(
            select(Company.siren, Establishment.siret)
            .join(Relation, Relation.supplier_id == Company.id)
            .join(RelationEstablishment, RelationEstablishment.relation_id == Relation.id)
            .join(Establishment, Establishment.id == RelationEstablishment.establishment_id)
        ).all())
    assert scoped == {ACME: ACME_SIRET, new: siret(new, 3)}


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"siren": "732829321", "email": "a@b.example"}, "siren", "clé de contrôle"),
    ({"siren": "7328293", "email": "a@b.example"}, "siren", "vous avez saisi 7 chiffres"),
    ({"siren": "73282932A", "email": "a@b.example"}, "siren", "que des chiffres"),
    ({"siren": "", "email": "a@b.example"}, "siren", "obligatoire"),
    ({"siren": ACME, "email": "pas-une-adresse"}, "email", "n'est pas valide"),
    ({"siren": ACME, "email": ""}, "email", "obligatoire"),
    ({"siren": "SELF", "email": "a@b.example"}, "siren", "son propre fournisseur"),
    ({"siren": siren(13), "email": "a@b.example"}, "name", "raison sociale est obligatoire"),
    ({"siren": siren(14), "name": "X", "email": "a@b.example", "supplier_code": "USED"},
     "supplier_code", "déjà utilisé"),
    ({"siren": siren(15), "name": "X", "email": "a@b.example", "tracking_end": "31/02/2027"},
     "tracking_end", "Date invalide"),
    ({"siren": siren(15), "name": "X", "email": "a@b.example", "supplier_code": "C" * 41},
     "supplier_code", "40 caractères"),
])
def test_each_refusal_is_shown_on_its_field_and_nothing_is_written(
        app, dan, initech, fields, field, message):
    from hiveo.demo.factories import make_company, make_relation

    with app.app_context():
        client_company = db.session.scalar(select(Company).where(Company.siren == initech))
        make_relation(client_company, make_company("Déjà Suivi"), supplier_code="USED")
        db.session.commit()
    before = (count(app, Company), count(app, Relation), count(app, OutboxMessage))
    if fields["siren"] == "SELF":
        fields = {**fields, "siren": initech}
    response = invite(dan, initech, **fields)
    assert response.status_code == 422
    assert message in page_text_of(field_errors(response, field))
    assert (count(app, Company), count(app, Relation), count(app, OutboxMessage)) == before


def page_text_of(html: str) -> str:
    from html import unescape

    return unescape(html).replace("\u00a0", " ").replace("\u2019", "'")


def test_a_supplier_already_followed_is_refused_on_the_siren(app, dan, initech):
    assert invite(dan, initech, siren=ACME, email="alice@example.com").status_code == 303
    response = invite(dan, initech, siren=ACME_SIRET, email="alice@example.com")
    assert response.status_code == 422
    assert "déjà votre fournisseur" in page_text_of(field_errors(response, "siren"))
    assert len(relations(app)) == 1


def test_htmx_gets_the_form_back_with_its_errors(dan, initech):
    response = post(dan, INVITE.format(siren=initech), {"siren": "1", "email": ""}, htmx=True,
                    page=INVITE.format(siren=initech))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<form") and 'id="siren-errors"' in html


def test_members_of_the_client_cannot_invite(client, initech):
    login(client, "erin@example.com")
    response = invite(client, initech, siren=ACME, email="alice@example.com")
    assert response.status_code == 403


# --- many suppliers, from a CSV file ---

HEADER = "siren_ou_siret;nom;email;code_fournisseur;reference_contrat;categorie;description;" \
         "fin_de_suivi"


def csv_file(*lines: str, header: str = HEADER, bom: bool = True) -> bytes:
    text = "\r\n".join([header, *lines]) + "\r\n"
    return ("\ufeff" if bom else "").encode() + text.encode()


def upload(client, initech: str, data: bytes, mode: str = "all_or_nothing",
           filename: str = "fournisseurs.csv"):
    return post(client, IMPORT.format(siren=initech),
                {"mode": mode, "file": (io.BytesIO(data), filename)},
                page=IMPORT.format(siren=initech), content_type="multipart/form-data")


def good_lines() -> list[str]:
    return [f"{ACME};;alice@example.com;F-1;CT-1;Nettoyage;Bureaux;31/12/2027",
            f"{siren(21)};Alpha Sécurité;contact@alpha.example;F-2;;Sécurité;;",
            f"{siret(siren(22), 5)};Bêta Travaux;contact@beta.example;;;;;2027-06-30"]


def test_a_good_file_invites_every_supplier_and_the_report_says_so(app, dan, initech):
    response = upload(dan, initech, csv_file(*good_lines()))
    assert response.status_code == 200
    text = page_text(response)
    assert "3 fournisseurs invités" in text and "Lignes importées" in text
    assert len(relations(app)) == 3
    with app.app_context():
        beta = db.session.scalar(select(Company).where(Company.siren == siren(22)))
        assert beta.name == "Bêta Travaux"
        ends = sorted(str(r.tracking_end) for r in db.session.scalars(select(Relation)))
    assert ends == ["2027-06-30", "2027-12-31", "None"]
    assert count(app, Invitation) == 2  # the two new companies' contacts


BAD = [f"{siren(23)};Gamma;contact@gamma.example;;;;;",
       "123456789;Delta;contact@delta.example;;;;;",
       f"{siren(24)};Epsilon;pas-une-adresse;;;;;",
       f"{siren(25)};Zeta;contact@zeta.example;;;;;le 3 mars"]


def visible(response) -> str:
    """The page's text without its tags, words separated by single spaces."""
    return " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())


def test_bad_rows_are_reported_with_their_line_and_reason(app, dan, initech):
    response = upload(dan, initech, csv_file(*BAD), mode="all_or_nothing")
    assert response.status_code == 422
    text = visible(response)
    assert "Aucune invitation n'a été envoyée" in text
    assert re.search(r"3\s+123456789\s+Delta\s+Le SIREN 123456789 n'est pas valide", text)
    assert re.search(r"4\s+\S+\s+Epsilon\s+L'adresse e-mail « pas-une-adresse »", text)
    assert re.search(r"5\s+\S+\s+Zeta\s+La date « le 3 mars » n'est pas lisible", text)


def test_all_or_nothing_writes_nothing_when_a_row_is_refused(app, dan, initech):
    before = (count(app, Company), count(app, Establishment), count(app, Invitation))
    upload(dan, initech, csv_file(*good_lines(), BAD[1]), mode="all_or_nothing")
    assert relations(app) == [] and outbox(app) == []
    assert (count(app, Company), count(app, Establishment), count(app, Invitation)) == before


def test_row_by_row_writes_the_good_rows_and_reports_the_others(app, dan, initech):
    response = upload(dan, initech, csv_file(*good_lines(), *BAD), mode="row_by_row")
    assert response.status_code == 200
    text = page_text(response)
    assert "4 fournisseurs invités, 3 lignes refusées" in text
    assert len(relations(app)) == 4  # three good lines and Gamma


def test_duplicates_inside_the_file_are_refused_with_the_first_line(app, dan, initech):
    lines = [f"{siren(26)};Eta;a@eta.example;C-1;;;;",
             f"{siren(27)};Theta;a@theta.example;C-1;;;;",
             f"{siret(siren(26), 2)};Eta bis;b@eta.example;;;;;"]
    response = upload(dan, initech, csv_file(*lines), mode="row_by_row")
    text = visible(response)
    assert "Le code fournisseur « C-1 » figure déjà à la ligne 2 du fichier" in text
    assert "figure déjà à la ligne 2 du fichier" in text.split("Theta", 1)[1]
    assert len(relations(app)) == 1


def test_commas_and_no_bom_are_read_too(app, dan, initech):
    header = HEADER.replace(";", ",")
    lines = [line.replace(";", ",") for line in good_lines()[:2]]
    response = upload(dan, initech, csv_file(*lines, header=header, bom=False))
    assert "2 fournisseurs invités" in page_text(response)


def test_a_file_that_is_not_utf8_or_too_long_is_refused_whole(app, dan, initech):
    latin = csv_file(f"{siren(28)};Société Iota;a@iota.example;;;;;", bom=False)
    response = upload(dan, initech, latin.decode().encode("latin-1"))
    assert response.status_code == 422
    assert "n'est pas en UTF-8" in page_text_of(field_errors(response, "file"))
    many = csv_file(*[f"{siren(30)};Kappa;a@kappa.example;;;;;"] * 1001)
    response = upload(dan, initech, many)
    assert response.status_code == 422
    assert "plus de 1000 lignes" in page_text_of(field_errors(response, "file"))
    assert relations(app) == []


def test_the_file_size_and_its_header_are_checked():
    with pytest.raises(ImportFileError, match="dépasse 50 octets"):
        parse_csv(csv_file("x" * 100), max_bytes=50)
    with pytest.raises(ImportFileError, match="Colonne inconnue"):
        parse_csv(b"siren;nom\n1;2\n")
    with pytest.raises(ImportFileError, match="email"):
        parse_csv(b"siren_ou_siret;nom\n1;2\n")
    with pytest.raises(ImportFileError, match="aucune ligne"):
        parse_csv(csv_file())


def test_a_quoted_field_over_two_lines_keeps_the_next_rows_line_numbers():
    rows = parse_csv(csv_file(f'{siren(31)};A;a@a.example;;;;"deux\nlignes";',
                              f"{siren(32)};B;b@b.example;;;;;"))
    assert [row.line for row in rows] == [2, 4]


def test_the_import_function_row_by_row_keeps_the_good_rows(app, initech):
    with app.app_context():
        client_company = db.session.scalar(select(Company).where(Company.siren == initech))
        dan_user = db.session.scalar(select(User).where(User.email == "dan@example.com"))
        rows = parse_csv(csv_file(*good_lines()[1:], BAD[1]))
        report = import_suppliers(client_company, dan_user, rows, "row_by_row",
                                  base_url="http://portail.example")
        db.session.commit()
        assert report.written == 2 and [r.line for r in report.refused] == [4]
    assert len(relations(app)) == 2


def test_the_model_file_can_be_imported_as_it_is(app, dan, initech):
    response = dan.get(f"/organisations/{initech}/fournisseurs/modele-import.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = parse_csv(response.data)
    assert rows[0].values["siren"] == "73282932000074"


def test_the_command_line_imports_a_file_through_the_same_function(app, initech, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "fournisseurs.csv"
    path.write_bytes(csv_file(*good_lines(), BAD[1]))
    refused = runner.invoke(args=["suppliers", "import", initech, str(path),
                                  "--by", "dan@example.com"])
    assert refused.exit_code != 0 and "ligne 5 refusée" in refused.output
    assert relations(app) == []
    result = runner.invoke(args=["suppliers", "import", initech, str(path),
                                 "--by", "dan@example.com", "--row-by-row"])
    assert result.exit_code == 0, result.output
    assert "3 fournisseur(s) invité(s), 1 ligne(s) refusée(s)" in result.output
    assert len(relations(app)) == 3
    member = runner.invoke(args=["suppliers", "import", initech, str(path),
                                 "--by", "erin@example.com"])
    assert member.exit_code != 0 and "n'est pas administrateur" in member.output


def test_a_supplier_closed_and_reinvited_by_the_form_again_and_again_is_mailed_four_times_a_day(
        app, dan, initech):
    from hiveo.demo.factories import make_relation
    from hiveo.relations import services as relation_services

    with app.app_context():
        client_company = db.session.scalar(select(Company).where(Company.siren == initech))
        acme = db.session.scalar(select(Company).where(Company.siren == ACME))
        make_relation(client_company, acme, state="closed", reason="Fin du contrat")
        db.session.commit()
    for _ in range(4):
        response = invite(dan, initech, siren=ACME, email="alice@example.com")
        assert response.status_code == 303
        with app.app_context():
            [relation] = list(db.session.scalars(select(Relation)))
            relation_services.close(relation, None, "Erreur de saisie")
            db.session.commit()
    response = invite(dan, initech, siren=ACME, email="alice@example.com")
    assert response.status_code == 303
    [relation] = relations(app)
    assert relation.state == "invited"  # the fifth invitation still reopens the relation
    sent = [kind for kind, _recipient, _body in outbox(app)]
    # Four re-invitations and four closures are eight changes: four are mailed.
    assert len(sent) == relation_services.MAX_CHANGE_MAILS
    text = page_text(dan.get(response.headers["Location"]))
    assert "celui-ci ne leur est pas envoyé" in text
