"""The Documents tab: the dossier, its states, filters, downloads and query counts."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from hiveo.demo.factories import add_establishments, make_company, make_document, make_user
from hiveo.dossier.services import refuse_document
from hiveo.extensions import db
from hiveo.models import Company, Establishment, User
from tests import pdfs
from tests.helpers import count_queries, login, page_text


def acme(app_ctx_cast):
    return db.session.scalar(select(Company).where(Company.siren == app_ctx_cast.acme))


@pytest.fixture
def dossier(app, cast):
    """Acme's dossier: valid, expiring, expired, refused, pending, archived versions."""
    with app.app_context():
        company = acme(cast)
        first_est = db.session.scalar(
            select(Establishment).where(Establishment.company_id == company.id)
            .order_by(Establishment.siret))
        make_document(company, "KBIS", issue_date=date(2026, 3, 1))
        make_document(company, "KBIS", issue_date=date(2026, 6, 1))
        make_document(company, "KBIS", issue_date=date(2026, 10, 15))   # valid to 14/01/2027
        make_document(company, "URSSAF_VIGILANCE", issue_date=date(2026, 6, 15),
                      validity_start=date(2026, 6, 20))                  # ends 19/12: expiring
        make_document(company, "FISCAL_REGULARITY", issue_date=date(2025, 11, 1),
                      validity_end=date(2026, 10, 31))                   # expired
        refused = make_document(company, "LNTE", issue_date=date(2026, 11, 2), validated=False)
        operator = db.session.scalar(select(User).where(User.email == cast.olivia))
        refuse_document(refused.id, operator, "La liste n'est pas signée.")
        make_document(company, "BTP_PAID_LEAVE", establishment=first_est,
                      issue_date=date(2026, 11, 1), validity_end=date(2027, 3, 31),
                      validated=False)
        db.session.commit()
    return cast


def test_dossier_shows_every_state_in_french(client, dossier):
    login(client, dossier.bob)
    html = page_text(client.get(f"/organisations/{dossier.acme}/documents"))
    establishment = page_text(client.get(
        f"/organisations/{dossier.acme}/documents/etablissements/73282932000017"))
    for label in ("valide", "expire bientôt", "expiré", "refusé"):
        assert f">{label}</span>" in html, label
    assert ">1 en cours de validation</span>" in html
    assert ">en cours de validation</span>" in establishment
    # Acme has no active client: the legal dossier is required, and it has one of each;
    # the insurance types nobody requires are optional, never "missing".
    assert "Dossier légal" in html
    assert ">manquant</span>" not in html and ">manquant</span>" not in establishment
    assert ">facultatif</span>" in html and ">facultatif</span>" in establishment
    assert "La liste n'est pas signée." in html
    assert "Historique (2 versions archivées)" in html
    assert "Ce qui demande une action" in html


def test_what_needs_action_comes_first(client, dossier):
    login(client, dossier.bob)
    html = page_text(client.get(f"/organisations/{dossier.acme}/documents"))
    assert html.index("Ce qui demande une action") < html.index('id="company-docs-title"')


def test_the_documents_tab_opens_the_only_company(client, dossier):
    login(client, dossier.bob)
    response = client.get("/documents")
    assert response.headers["Location"] == f"/organisations/{dossier.acme}/documents"


def test_a_user_with_several_companies_picks_one_and_it_is_remembered(app, client, dossier):
    with app.app_context():
        from hiveo.models import User
        from hiveo.organisations.services import add_member

        bob = db.session.scalar(select(User).where(User.email == dossier.bob))
        add_member(bob, db.session.scalar(
            select(Company).where(Company.siren == dossier.globex)), "member")
        db.session.commit()
    login(client, dossier.bob)
    choose = page_text(client.get("/documents"))
    assert "Quel dossier voulez-vous ouvrir ?" in choose
    client.get(f"/organisations/{dossier.globex}/documents")
    assert client.get("/documents").headers["Location"] == (
        f"/organisations/{dossier.globex}/documents")


def test_filter_lists_one_state_across_the_dossier(client, dossier):
    login(client, dossier.bob)
    html = page_text(client.get(f"/organisations/{dossier.acme}/documents?etat=expiring"))
    assert "1 élément" in html
    assert "Attestation de vigilance URSSAF" in html
    # The expired tax certificate is complementary (no client requires it): no action.
    expired = page_text(client.get(f"/organisations/{dossier.acme}/documents?etat=expired"))
    assert "0 élément" in expired and "Attestation de régularité fiscale" not in expired
    # LNTE (refused) is not "missing"; the legal dossier has nothing else missing.
    missing = page_text(client.get(f"/organisations/{dossier.acme}/documents?etat=missing"))
    assert "0 élément" in missing
    # Valid, pending and archived lists show every document, required or not.
    pending = page_text(client.get(f"/organisations/{dossier.acme}/documents?etat=pending"))
    assert "1 élément" in pending and "Certificat caisse de congés payés BTP" in pending


def test_establishment_sections_load_their_slots_on_demand(client, dossier):
    login(client, dossier.bob)
    html = page_text(client.get(f"/organisations/{dossier.acme}/documents"))
    path = f"/organisations/{dossier.acme}/documents/etablissements/73282932000017"
    assert f'hx-get="{path}" hx-trigger="toggle once"' in html
    assert f'<a href="{path}">' in html  # the same content without JavaScript
    fragment = page_text(client.get(path, headers={"HX-Request": "true"}))
    assert fragment.lstrip().startswith('<table class="table slots">')
    assert "Certificat caisse de congés payés BTP" in fragment
    assert "Couvert par le document de l'entreprise" in fragment
    other = page_text(client.get(f"/organisations/{dossier.acme}/documents/etablissements/x"))
    assert "Page introuvable" in other


def test_an_establishment_of_another_company_is_404(client, dossier):
    login(client, dossier.charlie)
    path = f"/organisations/{dossier.globex}/documents/etablissements/73282932000017"
    assert client.get(path).status_code == 404


def test_filtered_fragment_for_htmx(client, dossier):
    login(client, dossier.bob)
    response = client.get(f"/organisations/{dossier.acme}/documents?etat=expiring",
                          headers={"HX-Request": "true"})
    assert response.get_data(as_text=True).lstrip().startswith('<div id="dossier-body"')


def test_members_download_any_version_as_an_attachment(app, client, dossier):
    with app.app_context():
        from hiveo.models import Document

        archived = db.session.scalar(select(Document).where(Document.archived_at.is_not(None)))
        archived_id, sha = archived.id, archived.sha256
    login(client, dossier.bob)
    response = client.get(f"/organisations/{dossier.acme}/documents/{archived_id}/fichier")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert f"KBIS-{dossier.acme}-2026-03-01-{archived_id}.pdf" in (
        response.headers["Content-Disposition"])
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    import hashlib

    assert hashlib.sha256(response.data).hexdigest() == sha
    response.close()


def test_outsiders_get_404_for_documents_even_with_the_right_id(app, client, dossier):
    with app.app_context():
        from hiveo.models import Document

        document_id = db.session.scalar(select(Document.id))
    login(client, dossier.charlie)
    assert client.get(f"/organisations/{dossier.acme}/documents").status_code == 404
    assert client.get(
        f"/organisations/{dossier.acme}/documents/{document_id}/fichier").status_code == 404
    # Naming their own company does not open another company's document either.
    assert client.get(
        f"/organisations/{dossier.globex}/documents/{document_id}/fichier").status_code == 404


def _company_with(app, establishments: int, documents_per_establishment: int,
                  *, documented: int | None = None) -> str:
    """A company with `establishments`, a BTP document on each (or on the first `documented`)."""
    with app.app_context():
        company = make_company(f"Réseau {establishments}")
        add_establishments(company, establishments, start=0 if establishments > 9999 else 1)
        make_user(f"admin{establishments}@example.com", profile="fast",
                  memberships=((company, "admin"),))
        make_document(company, "KBIS", issue_date=date(2026, 10, 1))
        ests = db.session.scalars(select(Establishment).where(
            Establishment.company_id == company.id)).all()
        content = pdfs.valid_pdf()
        documented = len(ests) if documented is None else documented
        for est in ests[:documents_per_establishment and documented]:
            make_document(company, "BTP_PAID_LEAVE", establishment=est,
                          issue_date=date(2026, 10, 1), validity_end=date(2026, 12, 10),
                          content=content)
        db.session.commit()
        return company.siren


def test_documents_tab_query_count_does_not_grow_with_establishments(app, cast):
    counts = {}
    for size in (1, 300):
        siren = _company_with(app, size, 1)
        client = app.test_client()
        login(client, f"admin{size}@example.com")
        for query in ("", "?etat=missing", "?etat=expiring", "?q=lyon"):
            with count_queries(app) as statements:
                response = client.get(f"/organisations/{siren}/documents{query}")
            assert response.status_code == 200
            counts[(size, query)] = len(statements)
    for query in ("", "?etat=missing", "?etat=expiring", "?q=lyon"):
        assert counts[(1, query)] == counts[(300, query)], query


def test_documents_tab_query_count_is_the_same_for_10_and_10000_establishments(app, cast):
    counts = {}
    paths = ("", "?etat=missing", "?etat=expiring", "?q=lyon")
    for size in (10, 10_000):
        siren = _company_with(app, size, 1, documented=10)
        client = app.test_client()
        login(client, f"admin{size}@example.com")
        for query in paths:
            with count_queries(app) as statements:
                response = client.get(f"/organisations/{siren}/documents{query}")
            assert response.status_code == 200
            counts[(size, query)] = len(statements)
        # An establishment's section, as it loads when opened.
        with app.app_context():
            siret = db.session.scalar(select(Establishment.siret).join(Company).where(
                Company.siren == siren).order_by(Establishment.siret))
        with count_queries(app) as statements:
            response = client.get(f"/organisations/{siren}/documents/etablissements/{siret}",
                                  headers={"HX-Request": "true"})
        assert response.status_code == 200 and "<details" not in response.get_data(as_text=True)
        counts[(size, "section")] = len(statements)
    for query in (*paths, "section"):
        assert counts[(10, query)] == counts[(10_000, query)], (query, counts)
    # The user with their companies, the active relations (none: the legal dossier is
    # required), the company's documents, the page of establishments with their total,
    # their documents, the counts, the previews, the clients' downloads of the shown
    # documents; then the summary: the next expiry (no type is required of
    # establishments, so neither their number nor their slots in force are read).
    assert counts[(10_000, "")] == 9, counts


def test_dossier_export_cli_prints_the_documented_shape(app, dossier):
    result = app.test_cli_runner().invoke(args=["dossier", "export", dossier.acme])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["siren"] == dossier.acme and data["name"] == "Acme Nettoyage"
    assert data["establishments"][0] == {"siret": "73282932000017",
                                         "name": data["establishments"][0]["name"]}
    assert data["providers"] == {
        provider: {"linked": False, "sync_enabled": False, "changed_by": None,
                   "changed_at": None, "last_run": None}
        for provider in ("attestation_legale", "actradis")
    }
    kinds = {(d["type"], d["state"]) for d in data["documents"]}
    assert ("KBIS", "archived") in kinds and ("KBIS", "valid") in kinds
    assert ("URSSAF_VIGILANCE", "expiring") in kinds
    assert ("FISCAL_REGULARITY", "expired") in kinds
    assert ("LNTE", "refused") in kinds
    assert ("BTP_PAID_LEAVE", "pending") in kinds
    urssaf = next(d for d in data["documents"] if d["type"] == "URSSAF_VIGILANCE")
    assert urssaf["validity_end"] == "2026-12-19"
    assert set(urssaf) == {"id", "type", "siret", "current", "state", "source", "external_id",
                           "external_revision", "issue_date", "validity_start", "validity_end",
                           "sha256", "uploaded_at", "archived_at"}
    assert isinstance(urssaf["id"], str) and urssaf["source"] == "manual"


def test_import_cli_validates_at_once_and_archives_the_previous(app, dossier, tmp_path):
    pdf = tmp_path / "kbis.pdf"
    pdf.write_bytes(pdfs.valid_pdf("Kbis importé"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["documents", "import", dossier.acme, str(pdf), "--type", "KBIS",
                                 "--issue-date", "2026-11-20", "--validity-start", "2026-11-20"])
    assert result.exit_code == 0, result.output
    assert "valable jusqu'au 19/02/2027" in result.output
    data = json.loads(runner.invoke(args=["dossier", "export", dossier.acme]).output)
    current = [d for d in data["documents"] if d["type"] == "KBIS" and d["current"]]
    assert len(current) == 1 and current[0]["issue_date"] == "2026-11-20"
    assert sum(1 for d in data["documents"] if d["type"] == "KBIS") == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "NOPE", "--issue-date", "2026-11-01", "--validity-start", "2026-11-01"],
         "type de document"),
        (["--type", "KBIS", "--issue-date", "2027-01-01", "--validity-start", "2027-01-01"],
         "futur"),
        (["--type", "INSURANCE_RC_PRO", "--issue-date", "2026-11-01",
          "--validity-start", "2026-11-01"], "obligatoire"),
        (["--type", "KBIS", "--siret", "35600000009075", "--issue-date", "2026-11-01",
          "--validity-start", "2026-11-01"], "n'appartient pas"),
    ],
)
def test_import_cli_refuses_bad_input_and_stores_nothing(app, dossier, tmp_path, args, message):
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(pdfs.valid_pdf())
    before = json.loads(app.test_cli_runner().invoke(args=["dossier", "export", dossier.acme])
                        .output)
    result = app.test_cli_runner().invoke(args=["documents", "import", dossier.acme, str(pdf),
                                                *args])
    assert result.exit_code != 0
    assert message in result.output
    after = json.loads(app.test_cli_runner().invoke(args=["dossier", "export", dossier.acme])
                       .output)
    assert before == after


def test_import_cli_refuses_a_non_pdf(app, dossier, tmp_path):
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(pdfs.png_bytes())
    result = app.test_cli_runner().invoke(args=[
        "documents", "import", dossier.acme, str(fake), "--type", "KBIS",
        "--issue-date", "2026-11-01", "--validity-start", "2026-11-01"])
    assert result.exit_code != 0
    assert "n'est pas un PDF" in result.output
