"""Manual upload: the happy path and every refusal, which must leave nothing behind."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from hiveo.extensions import db
from hiveo.models import AuditEvent, Document
from tests import pdfs
from tests.helpers import fetch_csrf, kept_files, login, page_text, stored_files, upload


def document_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Document.id)))


def test_upload_page_prefills_type_and_establishment(client, cast):
    login(client, cast.bob)
    html = client.get(
        f"/organisations/{cast.acme}/documents/deposer?type=BTP_PAID_LEAVE&siret=73282932000017"
    ).get_data(as_text=True)
    assert '<option selected value="BTP_PAID_LEAVE">' in html
    assert 'value="73282932000017" selected' in html


def test_upload_dialog_for_htmx(client, cast):
    login(client, cast.bob)
    html = client.get(f"/organisations/{cast.acme}/documents/deposer",
                      headers={"HX-Request": "true"}).get_data(as_text=True)
    assert html.lstrip().startswith("<dialog")
    assert "<html" not in html


def test_a_member_uploads_a_pdf_that_waits_for_review(app, client, cast):
    login(client, cast.bob)
    response = upload(client, cast.acme, pdfs.valid_pdf())
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "en cours de validation" in page
    with app.app_context():
        document = db.session.scalar(select(Document))
        assert document.review_state == "pending"
        assert not document.is_current
        assert document.effective_end.isoformat() == "2027-03-31"
        assert document.filename == "attestation.pdf"
        assert db.session.scalar(select(AuditEvent.action)) == "document.uploaded"
    files = stored_files(app)
    assert len(files) == 1
    assert files[0].name == document.sha256
    assert "attestation" not in str(files[0])


def test_htmx_upload_redirects_with_hx_redirect(client, cast):
    login(client, cast.bob)
    response = upload(client, cast.acme, pdfs.valid_pdf(), htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/organisations/{cast.acme}/documents"


def test_auto_validation_makes_the_upload_current(app, client, cast):
    app.config["AUTO_VALIDATE"] = True
    login(client, cast.bob)
    upload(client, cast.acme, pdfs.valid_pdf())
    with app.app_context():
        document = db.session.scalar(select(Document))
        assert document.review_state == "validated" and document.is_current


def test_identical_bytes_are_stored_once(app, client, cast):
    login(client, cast.bob)
    content = pdfs.valid_pdf()
    upload(client, cast.acme, content)
    upload(client, cast.acme, content, doc_type="KBIS")
    assert document_count(app) == 2
    assert len(stored_files(app)) == 1


REFUSALS = [
    ("renamed PNG", lambda: pdfs.png_bytes(), "attestation.pdf", {}, "n'est pas un PDF"),
    ("HTML named .pdf", lambda: pdfs.html_bytes(), "attestation.pdf", {}, "n'est pas un PDF"),
    ("encrypted PDF", lambda: pdfs.encrypted_pdf(), "a.pdf", {}, "protégé"),
    ("JavaScript PDF", lambda: pdfs.javascript_pdf(), "a.pdf", {}, "contenu actif"),
    ("truncated PDF", lambda: pdfs.truncated_pdf(), "a.pdf", {}, "illisible"),
    ("empty file", lambda: b"", "a.pdf", {}, "vide"),
    ("path traversal", lambda: pdfs.valid_pdf(), "../../etc/passwd.pdf", {}, "chemin"),
    ("NUL in name", lambda: pdfs.valid_pdf(), "a\x00.pdf", {}, "contrôle"),
    ("look-alike name", lambda: pdfs.valid_pdf(), "facture\u2024pdf", {}, "imitent"),
    ("long name", lambda: pdfs.valid_pdf(), "a" * 300 + ".pdf", {}, "200 caractères"),
    ("other company's SIRET", lambda: pdfs.valid_pdf(), "a.pdf",
     {"siret": "OTHER"}, "n'appartient pas"),
    ("future issue date", lambda: pdfs.valid_pdf(), "a.pdf",
     {"issue_date": "2026-12-01"}, "futur"),
    ("start after end", lambda: pdfs.valid_pdf(), "a.pdf",
     {"doc_type": "FISCAL_REGULARITY", "validity_start": "2026-10-05",
      "validity_end": "2026-10-01"}, "ne peut pas précéder le début de validité"),
    ("missing printed end", lambda: pdfs.valid_pdf(), "a.pdf",
     {"doc_type": "INSURANCE_RC_PRO"}, "fin de validité est obligatoire"),
    ("unknown type", lambda: pdfs.valid_pdf(), "a.pdf", {"doc_type": "PASSPORT"},
     "type de document"),
    ("bad date", lambda: pdfs.valid_pdf(), "a.pdf", {"issue_date": "31/02/2026"},
     "Date invalide"),
]


@pytest.mark.parametrize(("name", "content", "filename", "fields", "message"), REFUSALS,
                         ids=[r[0] for r in REFUSALS])
def test_refused_uploads_leave_no_row_and_no_file(app, client, cast, name, content, filename,
                                                  fields, message):
    if fields.get("siret") == "OTHER":
        with app.app_context():
            from hiveo.models import Establishment

            fields = {**fields, "siret": db.session.scalar(
                select(Establishment.siret).where(Establishment.company_id == cast.globex_id)
            )}
    login(client, cast.bob)
    response = upload(client, cast.acme, content(), filename=filename, **fields)
    html = page_text(response)
    assert response.status_code == 422, html[:500]
    assert message in html
    assert document_count(app) == 0
    assert stored_files(app) == []


def test_refusal_with_htmx_returns_the_form_fragment(client, cast):
    login(client, cast.bob)
    response = upload(client, cast.acme, pdfs.png_bytes(), htmx=True)
    html = page_text(response)
    assert response.status_code == 422
    assert html.lstrip().startswith('<form id="upload-form"')
    assert "n'est pas un PDF" in html


def test_a_file_over_the_limit_is_refused_and_not_stored(app, client, cast):
    app.config["MAX_UPLOAD_MB"] = 1
    login(client, cast.bob)
    response = upload(client, cast.acme, b"%PDF-1.4\n" + b"0" * (1024 * 1024))
    assert response.status_code == 422
    assert "Le fichier est trop volumineux : 1 Mo au plus." in page_text(response)
    assert document_count(app) == 0
    assert stored_files(app) == []


def test_a_body_over_max_content_length_is_refused_before_reading(app, client, cast):
    login(client, cast.bob)
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = upload(client, cast.acme, b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024))
    assert limit < 11 * 1024 * 1024
    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.get_data(as_text=True)
    assert document_count(app) == 0
    assert stored_files(app) == []


def test_outsiders_cannot_upload(client, cast):
    login(client, cast.charlie)
    assert client.get(f"/organisations/{cast.acme}/documents/deposer").status_code == 404
    token = fetch_csrf(client, "/organisations")
    response = client.post(f"/organisations/{cast.acme}/documents/deposer",
                           data={"csrf_token": token})
    assert response.status_code == 404


def test_upload_without_csrf_token_is_refused(app, client, cast):

    login(client, cast.bob)
    response = client.post(f"/organisations/{cast.acme}/documents/deposer",
                           data={"file": (io.BytesIO(pdfs.valid_pdf()), "a.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert document_count(app) == 0


def _kept_token(html: str) -> str:
    import re

    match = re.search(r'name="kept_file" value="([0-9a-f]{32})"', html)
    assert match, "the form offers no kept file"
    return match.group(1)


def test_a_refused_submission_keeps_its_checked_file_for_the_next_one(app, client, cast):
    login(client, cast.bob)
    response = upload(client, cast.acme, pdfs.valid_pdf(), issue_date="2026-10-01",
                      validity_start="", validity_end="2026-09-01")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Fichier conservé&nbsp;: <strong>attestation.pdf</strong>" in html
    token = _kept_token(html)
    assert document_count(app) == 0
    assert stored_files(app) == []
    assert len(kept_files(app)) == 1

    response = upload(client, cast.acme, None, kept_file=token, issue_date="2026-10-01",
                      validity_start="", validity_end="")
    assert response.status_code == 303
    assert document_count(app) == 1
    assert kept_files(app) == []
    with app.app_context():
        assert db.session.scalar(select(Document.filename)) == "attestation.pdf"


def test_a_kept_file_is_offered_only_to_the_session_that_sent_it(app, client, cast):
    login(client, cast.bob)
    response = upload(client, cast.acme, pdfs.valid_pdf(), doc_type="")
    token = _kept_token(response.get_data(as_text=True))
    other = app.test_client()
    login(other, cast.alice)
    response = upload(other, cast.acme, None, kept_file=token)
    assert response.status_code == 422
    assert "Choisissez le fichier PDF à déposer." in page_text(response)
    assert document_count(app) == 0


def test_a_refused_file_is_not_kept(app, client, cast):
    login(client, cast.bob)
    response = upload(client, cast.acme, pdfs.javascript_pdf(), doc_type="")
    assert response.status_code == 422
    assert 'name="kept_file"' not in response.get_data(as_text=True)
    assert kept_files(app) == [] and stored_files(app) == []


def test_an_end_before_the_issue_date_is_reported_on_the_end_date(client, cast):
    login(client, cast.bob)
    response = upload(client, cast.acme, pdfs.valid_pdf(), issue_date="2026-10-01",
                      validity_start="", validity_end="2026-09-01")
    html = response.get_data(as_text=True)
    errors = html[html.index('id="validity_end-errors"'):]
    assert "La fin de validité ne peut pas précéder la date de délivrance." in errors[:300]
    assert 'id="validity_start-errors"' not in html


@pytest.mark.parametrize("day", ["9999-12-01", "1899-01-01"])
def test_a_date_out_of_range_is_refused_in_french_and_nothing_is_kept_in_store(app, client,
                                                                               cast, day):
    login(client, cast.bob)
    response = upload(client, cast.acme, pdfs.valid_pdf(), issue_date="2026-10-01",
                      validity_start="2026-10-01", validity_end=day)
    assert response.status_code == 422
    assert "n'est pas plausible : indiquez une date entre 1990 et 2100." in page_text(response)
    assert document_count(app) == 0
    assert stored_files(app) == []
