"""Operators validate or refuse manual uploads; the supplier sees the outcome."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from hiveo.demo.factories import make_document
from hiveo.extensions import db
from hiveo.models import AuditEvent, Company, Document, Establishment
from tests.helpers import login, page_text, post


def pending_upload(app, cast, doc_type="KBIS", **kwargs) -> int:
    with app.app_context():
        acme = db.session.scalar(select(Company).where(Company.siren == cast.acme))
        document = make_document(acme, doc_type, issue_date=date(2026, 11, 1), validated=False,
                                 **kwargs)
        db.session.commit()
        return document.id


def current_kbis(app, cast, issue=date(2026, 9, 1)) -> int:
    with app.app_context():
        acme = db.session.scalar(select(Company).where(Company.siren == cast.acme))
        document = make_document(acme, "KBIS", issue_date=issue, validated=True)
        db.session.commit()
        return document.id


def test_queue_lists_pending_documents_oldest_first(app, client, cast):
    first = pending_upload(app, cast, "KBIS")
    second = pending_upload(app, cast, "LNTE")
    login(client, cast.olivia)
    html = page_text(client.get("/operateur/validation"))
    assert "2 documents en attente" in html
    assert html.index(f"/operateur/documents/{first}") < html.index(
        f"/operateur/documents/{second}")


@pytest.mark.parametrize("who", ["alice", "bob", "charlie"])
def test_the_queue_is_for_operators_only(client, cast, who):
    login(client, getattr(cast, who))
    response = client.get("/operateur/validation")
    assert response.status_code == 403
    assert "réservée aux opérateurs" in page_text(response)


def test_review_page_shows_entered_dates_and_a_sandboxed_preview(app, client, cast):
    document_id = pending_upload(app, cast)
    login(client, cast.olivia)
    html = page_text(client.get(f"/operateur/documents/{document_id}"))
    assert "01/11/2026" in html
    assert "3 mois à partir de la date de délivrance" in html
    assert f'src="/operateur/documents/{document_id}/apercu"' in html
    preview = client.get(f"/operateur/documents/{document_id}/apercu")
    assert preview.status_code == 200
    assert preview.mimetype == "application/pdf"
    assert preview.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in preview.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in preview.headers["Content-Security-Policy"]
    assert preview.headers["X-Content-Type-Options"] == "nosniff"
    preview.close()


def test_only_operators_get_the_inline_preview(app, client, cast):
    document_id = pending_upload(app, cast)
    login(client, cast.alice)
    assert client.get(f"/operateur/documents/{document_id}/apercu").status_code == 403


def test_validation_makes_the_document_current_and_archives_the_previous(app, client, cast):
    old = current_kbis(app, cast)
    new = pending_upload(app, cast)
    login(client, cast.olivia)
    response = post(client, f"/operateur/documents/{new}/valider", page="/operateur/validation")
    assert response.status_code == 303
    with app.app_context():
        old_doc, new_doc = db.session.get(Document, old), db.session.get(Document, new)
        assert new_doc.is_current and new_doc.review_state == "validated"
        assert not old_doc.is_current
        assert old_doc.archived_at is not None
        assert old_doc.replaced_by_id == new
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "document.validated" in actions
    login(client, cast.bob)
    html = page_text(client.get(f"/organisations/{cast.acme}/documents"))
    assert "Historique (1 version archivée)" in html


def test_validating_twice_changes_nothing_the_second_time(app, client, cast):
    new = pending_upload(app, cast)
    login(client, cast.olivia)
    post(client, f"/operateur/documents/{new}/valider", page="/operateur/validation")
    response = post(client, f"/operateur/documents/{new}/valider", page="/operateur/validation")
    assert response.status_code == 303
    follow = page_text(client.get(response.headers["Location"]))
    assert "déjà été traité" in follow
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "document.validated")).all()
        assert len(events) == 1


def test_refusal_needs_a_reason_that_the_supplier_sees(app, client, cast):
    document_id = pending_upload(app, cast)
    login(client, cast.olivia)
    empty = post(client, f"/operateur/documents/{document_id}/refuser", {"reason": "  "},
                 page="/operateur/validation")
    assert empty.status_code == 422
    assert "Indiquez la raison du refus" in page_text(empty)
    refused = post(client, f"/operateur/documents/{document_id}/refuser",
                   {"reason": "Le document est illisible."}, page="/operateur/validation")
    assert refused.status_code == 303
    login(client, cast.bob)
    html = page_text(client.get(f"/organisations/{cast.acme}/documents"))
    assert "Le document est illisible." in html
    assert "refusé" in html


def test_a_new_upload_settles_the_refusal(app, client, cast):
    refused = pending_upload(app, cast)
    login(client, cast.olivia)
    post(client, f"/operateur/documents/{refused}/refuser", {"reason": "Illisible"},
         page="/operateur/validation")
    pending_upload(app, cast)
    with app.app_context():
        assert db.session.get(Document, refused).archived_at is not None


def test_validating_a_multi_type_upload_keeps_the_other_current_ones(app, client, cast):
    with app.app_context():
        acme = db.session.scalar(select(Company).where(Company.siren == cast.acme))
        first = make_document(acme, "INSURANCE_RC_PRO", issue_date=date(2026, 1, 1),
                              validity_end=date(2026, 12, 31))
        second = make_document(acme, "INSURANCE_RC_PRO", issue_date=date(2026, 2, 1),
                               validity_end=date(2027, 1, 31))
        replacing = make_document(acme, "INSURANCE_RC_PRO", issue_date=date(2026, 11, 1),
                                  validity_end=date(2027, 10, 31), validated=False,
                                  replaces=first)
        extra = make_document(acme, "INSURANCE_RC_PRO", issue_date=date(2026, 11, 2),
                              validity_end=date(2027, 11, 1), validated=False)
        db.session.commit()
        ids = first.id, second.id, replacing.id, extra.id
    login(client, cast.olivia)
    for document_id in ids[2:]:
        post(client, f"/operateur/documents/{document_id}/valider",
             page="/operateur/validation")
    with app.app_context():
        first, second, replacing, extra = (db.session.get(Document, i) for i in ids)
        assert first.archived_at is not None and first.replaced_by_id == replacing.id
        assert second.is_current and replacing.is_current and extra.is_current


def test_operator_cannot_review_a_document_that_does_not_exist(client, cast):
    login(client, cast.olivia)
    assert client.get("/operateur/documents/999").status_code == 404


def test_establishment_level_validation_archives_only_its_own_slot(app, client, cast):
    with app.app_context():
        acme = db.session.scalar(select(Company).where(Company.siren == cast.acme))
        one, two = db.session.scalars(
            select(Establishment).where(Establishment.company_id == acme.id)
            .order_by(Establishment.siret).limit(2)).all()
        keep = make_document(acme, "BTP_PAID_LEAVE", establishment=one,
                             issue_date=date(2026, 1, 1), validity_end=date(2026, 12, 31))
        new = make_document(acme, "BTP_PAID_LEAVE", establishment=two,
                            issue_date=date(2026, 11, 1), validity_end=date(2027, 10, 31),
                            validated=False)
        db.session.commit()
        keep_id, new_id = keep.id, new.id
    login(client, cast.olivia)
    post(client, f"/operateur/documents/{new_id}/valider", page="/operateur/validation")
    with app.app_context():
        assert db.session.get(Document, keep_id).is_current
        assert db.session.get(Document, new_id).is_current
