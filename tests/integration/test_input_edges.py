"""Inputs that gave a 500 (issue 12.3, 12.5, 12.6, 12.7): refused at the edge, once.

Control characters in paths, query strings, form fields and command-line
arguments; digits that are not ASCII; ids beyond the database's range; dates
outside the portal's range in the upload form and `documents import`. Each
runs on SQLite and, with HIVEO_TEST_DATABASE_URL, on PostgreSQL (which is
where NUL and out-of-range integers broke).
"""

from __future__ import annotations

from datetime import date

import click
import pytest
from sqlalchemy import func, select

from hiveo.clitools import Day, WithoutControlCharacters
from hiveo.core.inputs import CONTROL_REFUSAL, MAX_ID
from hiveo.demo.factories import make_document
from hiveo.extensions import db
from hiveo.models import AuditEvent, Company, Document, Establishment, LoginThrottle, User
from tests import pdfs
from tests.helpers import PASSWORD, fetch_csrf, login, page_text, post, stored_files, upload

ACME = "732829320"


def counts(app) -> dict[str, int]:
    with app.app_context():
        result = {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                  for model in (Document, AuditEvent, LoginThrottle, User, Company,
                                Establishment)}
        db.session.remove()
        return result


def assert_refused_for_control_characters(response) -> None:
    assert response.status_code == 400, response.status_code
    assert CONTROL_REFUSAL in page_text(response)


@pytest.mark.parametrize("path", [
    f"/organisations/{ACME}?q=a%00b",
    f"/organisations/{ACME}/documents?q=a%00b",
    f"/organisations/{ACME}/documents?etat=%00",
    f"/organisations/{ACME}/documents/etablissements/%00",
    f"/organisations/{ACME}/documents/etablissements/7328293200001%00",
    f"/organisations/{ACME}/documents/deposer?siret=%1b[31m",
    f"/organisations/{ACME}?page=1%00",
    f"/organisations/{ACME}?a%00=1",
    "/organisations%00",
    "/documents?siren=%7f",
    "/login?next=/%00",
])
def test_control_characters_in_paths_and_query_strings_get_400(app, cast, path):
    client = app.test_client()
    login(client, cast.bob)
    assert_refused_for_control_characters(client.get(path))
    assert_refused_for_control_characters(client.get(path, headers={"HX-Request": "true"}))


def test_a_nul_in_the_email_at_sign_in_is_refused_and_counts_nothing(app, cast):
    client = app.test_client()
    token = fetch_csrf(client)
    before = counts(app)
    for email in (f"{cast.alice}\x00", f"a\x00{cast.alice}", "\x00"):
        response = client.post("/login", data={"email": email, "password": PASSWORD,
                                               "csrf_token": token})
        assert_refused_for_control_characters(response)
    assert counts(app) == before
    assert client.get("/organisations").status_code == 302  # not signed in


def test_control_characters_in_any_form_field_are_refused_before_the_view(app, cast):
    client = app.test_client()
    login(client, cast.alice)
    before = counts(app)
    for data in ({"current_password": PASSWORD, "new_password": "nouveau\x00mot de passe",
                  "confirm_password": "nouveau\x00mot de passe"},
                 {"current_password": PASSWORD + "\x1b"},
                 {"field\x00": "x"}):
        response = post(client, "/compte", data)
        assert_refused_for_control_characters(response)
    response = upload(client, cast.acme, pdfs.valid_pdf(), siret="\x00")
    assert_refused_for_control_characters(response)
    assert counts(app) == before
    assert stored_files(app) == []


@pytest.mark.parametrize("name", ["line\rbreak", "line\nbreak", "tab\tname"])
def test_a_multipart_field_whose_name_breaks_its_header_is_refused(app, cast, name):
    # Werkzeug reads such a part as having no name (None), which CSRFProtect choked on.
    client = app.test_client()
    login(client, cast.bob)
    before = counts(app)
    response = upload(client, cast.acme, pdfs.valid_pdf(), **{name: "x"})
    assert_refused_for_control_characters(response)
    assert counts(app) == before
    assert stored_files(app) == []


def test_tabs_and_line_breaks_in_a_form_field_are_still_text(app, cast):
    with app.app_context():
        acme = db.session.get(Company, cast.acme_id)
        document = make_document(acme, "KBIS", issue_date=date(2026, 11, 1), validated=False)
        db.session.commit()
        document_id = document.id
    client = app.test_client()
    login(client, cast.olivia)
    response = post(client, f"/operateur/documents/{document_id}/refuser",
                    {"reason": "Illisible :\r\n\tla page 2 manque."}, page="/operateur")
    assert response.status_code in (200, 303), response.status_code
    with app.app_context():
        assert db.session.get(Document, document_id).refusal_reason == (
            "Illisible :\r\n\tla page 2 manque.")


@pytest.mark.parametrize("page", ["²", "٣", "1²", "10000000000000000000000", "-1", "0",
                                  "1e3", " 2", "2 "])
def test_a_page_number_that_is_not_ascii_digits_shows_the_first_page(app, cast, page):
    client = app.test_client()
    login(client, cast.bob)
    for path in (f"/organisations/{ACME}", f"/organisations/{ACME}/documents"):
        response = client.get(path, query_string={"page": page})
        assert response.status_code == 200, (path, page)


@pytest.mark.parametrize("replaces", ["²", "٣", str(10**30), str(2**63), "-1", "1.0"])
def test_an_upload_replacing_a_document_that_is_not_an_id_is_refused(app, cast, replaces):
    with app.app_context():
        acme = db.session.get(Company, cast.acme_id)
        make_document(acme, "INSURANCE_RC_PRO", issue_date=date(2026, 1, 1),
                      validity_end=date(2026, 12, 31))
        db.session.commit()
    client = app.test_client()
    login(client, cast.bob)
    before, files = counts(app), stored_files(app)
    response = upload(client, cast.acme, pdfs.valid_pdf(), doc_type="INSURANCE_RC_PRO",
                      validity_end="2027-09-30", replaces=replaces)
    assert response.status_code == 422
    assert "Le document à remplacer n'est pas un document en cours de ce dossier" in (
        page_text(response))
    assert counts(app) == before
    assert stored_files(app) == files


@pytest.mark.parametrize("document_id", [
    "10000000000000000000000000", str(2**63), str(2**63 - 1), str(2**31), str(MAX_ID + 1),
    "0", "٣",
])
def test_ids_beyond_the_databases_range_are_404(app, cast, document_id):
    client = app.test_client()
    login(client, cast.bob)
    assert client.get(f"/organisations/{ACME}/documents/{document_id}/fichier"
                      ).status_code == 404
    login(client, cast.olivia)
    assert client.get(f"/operateur/documents/{document_id}").status_code == 404
    assert client.get(f"/operateur/documents/{document_id}/apercu").status_code == 404
    response = post(client, f"/operateur/documents/{document_id}/valider", page="/operateur")
    assert response.status_code == 404


def test_the_largest_id_the_database_holds_is_still_looked_up(app, cast):
    client = app.test_client()
    login(client, cast.olivia)
    # Not a routing refusal: the id reaches the query, which finds nothing.
    response = client.get(f"/operateur/documents/{MAX_ID}")
    assert response.status_code == 404
    assert "Page introuvable" in page_text(response)


FULLWIDTH_ACME = "".join(chr(0xFF10 + int(digit)) for digit in ACME)


@pytest.mark.parametrize("siren", ["٧٣٢٨٢٩٣٢٠", FULLWIDTH_ACME, "²²²²²²²²²"])
def test_sirens_in_other_scripts_digits_are_not_numbers(app, cast, siren):
    client = app.test_client()
    login(client, cast.bob)
    assert client.get(f"/organisations/{siren}").status_code == 404
    assert client.get(f"/organisations/{siren}/documents").status_code == 404


# -- dates out of range (12.3, the form and command-line edge) ------------------------


@pytest.mark.parametrize(("field", "value"), [
    ("validity_start", "9999-12-01"),
    ("validity_start", "01/12/9999"),
    ("issue_date", "1900-01-01"),
    ("validity_end", "9999-12-31"),
    ("validity_end", "2101-01-01"),
    ("issue_date", "0001-01-01"),
])
def test_an_upload_with_an_implausible_date_is_refused_and_stores_nothing(app, cast, field,
                                                                          value):
    client = app.test_client()
    login(client, cast.bob)
    before = counts(app)
    fields = {field: value}
    if field == "validity_end":
        fields["doc_type"] = "FISCAL_REGULARITY"
    response = upload(client, cast.acme, pdfs.valid_pdf(), **fields)
    html = page_text(response)
    assert response.status_code == 422, html[:300]
    assert "n'est pas plausible : indiquez une date entre 1990 et 2100" in html
    assert counts(app) == before
    assert stored_files(app) == []


def test_the_range_edges_are_accepted(app, cast):
    client = app.test_client()
    login(client, cast.bob)
    response = upload(client, cast.acme, pdfs.valid_pdf(), doc_type="FISCAL_REGULARITY",
                      issue_date="1990-01-01", validity_start="1990-01-01",
                      validity_end="2100-12-31")
    assert response.status_code == 303, page_text(response)[:300]
    assert counts(app)["Document"] == 1


@pytest.fixture
def import_args(tmp_path):
    pdf = tmp_path / "kbis.pdf"
    pdf.write_bytes(pdfs.valid_pdf("Kbis importé"))
    return ["documents", "import", ACME, str(pdf), "--type", "KBIS"]


@pytest.mark.parametrize(("dates", "message"), [
    (["--issue-date", "2026-11-01", "--validity-start", "9999-12-01"], "n'est pas plausible"),
    (["--issue-date", "1899-12-31", "--validity-start", "2026-11-01"], "entre 1990 et 2100"),
    (["--issue-date", "2026-11-01", "--validity-start", "2026-11-01",
      "--validity-end", "9999-12-31"], "n'est pas plausible"),
    (["--issue-date", "2026-02-31", "--validity-start", "2026-11-01"], "AAAA-MM-JJ"),
    (["--issue-date", "01/11/2026", "--validity-start", "2026-11-01"], "AAAA-MM-JJ"),
])
def test_documents_import_refuses_implausible_dates_without_a_traceback(app, cast, import_args,
                                                                        dates, message):
    before = counts(app)
    result = app.test_cli_runner().invoke(args=[*import_args, *dates])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert counts(app) == before
    assert stored_files(app) == []


@pytest.mark.parametrize("args", [
    ["companies", "add", "732829320", "--name", "Acme\x00"],
    ["companies", "add", "732829320\x00", "--name", "Acme"],
    ["establishments", "add", "73282932000074", "--name", "Siège", "--city", "Pa\x1bris"],
    ["users", "add", "dora\x00@example.com", "--password", PASSWORD],
    ["users", "set-password", "alice@example.com", "--password", PASSWORD + "\x00"],
    ["sync", "run", "--siren", "\x00"],
    ["dossier", "export", "\x00"],
])
def test_command_line_arguments_with_control_characters_are_refused(app, cast, args):
    before = counts(app)
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 2, result.output
    assert "caractères de contrôle" in result.output
    assert counts(app) == before


def test_documents_import_refuses_a_nul_in_its_file_path(app, cast, import_args):
    import_args[3] += "\x00"
    result = app.test_cli_runner().invoke(
        args=[*import_args, "--issue-date", "2026-11-01", "--validity-start", "2026-11-01"])
    assert result.exit_code == 2, result.output
    assert "caractères de contrôle" in result.output


def test_every_text_parameter_of_every_command_is_checked(app):
    def commands(group: click.Group):
        for command in group.commands.values():
            yield command
            if isinstance(command, click.Group):
                yield from commands(command)

    checked = unchecked = 0
    for command in commands(app.cli):
        for param in command.params:
            if isinstance(param.type, WithoutControlCharacters):
                checked += 1
            elif isinstance(param.type, click.types.StringParamType | click.Path):
                unchecked += 1
    assert unchecked == 0
    assert checked > 10


def test_the_day_type_returns_dates_in_range():
    assert Day().convert("2100-12-31", None, None) == date(2100, 12, 31)
    with pytest.raises(click.BadParameter, match="plausible"):
        Day().convert("2101-01-01", None, None)
