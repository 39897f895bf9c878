"""French typography on the pages people read, as rendered (tools/typo_check.py).

The templates' own text is checked by tests/unit/test_typography.py; this renders
the main pages, so that sentences built in Python (sync wording, form labels and
errors, flashes) are checked too, on the supplier's, the client's and the
operator's sides.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from hiveo.demo.factories import make_document
from hiveo.extensions import db
from hiveo.models import Company, Establishment, Membership, SyncRun
from hiveo.sync.engine import sync_company
from tests.helpers import login, post
from tools.typo_check import check_html

AL = "attestation_legale"
ACME = "732829320"
COMPANY = f"/organisations/{ACME}"


@pytest.fixture
def app_overrides(simulator):
    return simulator.config()


@pytest.fixture
def world(app, cast, simulator):
    """Acme synchronised with a run that touched every kind of document, and one to review."""
    sim = simulator.sim
    sim.add_company(AL, ACME, "Acme Nettoyage")
    sim.add_document(AL, ACME, "KBIS", issue_date=date(2026, 10, 1))
    sim.add_document(AL, ACME, "LISTE_SALARIES_ETRANGERS", state="AWAITING_VALIDATION")
    sim.add_document(AL, ACME, "CERTIFICAT_QUALIPROPRE", issue_date=date(2026, 10, 1))
    with app.app_context():
        company = db.session.get(Company, cast.acme_id)
        make_document(company, "URSSAF_VIGILANCE", issue_date=date(2026, 11, 20))
        make_document(company, "LNTE", issue_date=date(2026, 11, 1),
                      validated=False)
        db.session.commit()
    sim.add_document(AL, ACME, "ATTESTATION_URSSAF", issue_date=date(2026, 12, 1))
    with app.app_context():
        assert sync_company(cast.acme_id, AL).outcome == "success"
    return sim


def problems(response) -> list[str]:
    assert response.status_code in (200, 422), response.status_code
    return [str(problem) for problem in check_html(response.get_data(as_text=True))]


def test_public_pages_follow_french_typography(client):
    for path in ("/login", "/mot-de-passe-oublie"):
        assert problems(client.get(path)) == [], path


def test_a_supplier_admin_s_pages_follow_french_typography(app, client, cast, world):
    with app.app_context():
        run = db.session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
        siret = db.session.scalar(select(Establishment.siret)
                                  .where(Establishment.company_id == cast.acme_id))
        bob = db.session.scalar(select(Membership.id).join(Membership.user)
                                .where(Membership.company_id == cast.acme_id,
                                       Membership.role == "member"))
    login(client, "alice@example.com")
    sync = f"{COMPANY}/synchronisation/{AL}"
    pages = ["/organisations", COMPANY, f"{sync}/executions/{run.id}", f"{sync}/desactiver",
             f"{sync}/reactiver", "/compte", f"{COMPANY}/membres/inviter",
             f"{COMPANY}/membres/{bob}/retirer", f"{COMPANY}/etablissements/ajouter",
             f"{COMPANY}/etablissements/{siret}/modifier",
             f"{COMPANY}/etablissements/{siret}/fermer", f"{COMPANY}/documents",
             f"{COMPANY}/documents/etablissements/{siret}", f"{COMPANY}/documents/deposer",
             f"{COMPANY}/documents?etat=missing", f"{COMPANY}/documents?q=zzz",
             f"{COMPANY}/clients"]
    for path in pages:
        assert problems(client.get(path)) == [], path
    # A run's lines in the history's disclosure, and a form sent back with its errors.
    assert problems(client.get(f"{sync}/executions/{run.id}",
                               headers={"HX-Request": "true"})) == []
    assert problems(post(client, f"{COMPANY}/etablissements/ajouter", {"siret": "123"})) == []
    # The state after turning the sync off, with its flash.
    response = post(client, f"{sync}/desactiver")
    assert problems(client.get(COMPANY)) == [], response.status_code


def test_an_operator_s_pages_follow_french_typography(app, client, cast, world):
    login(client, "olivia@example.com")
    for path in ("/operateur/validation", "/operateur/courriels"):
        assert problems(client.get(path)) == [], path
    queue = client.get("/operateur/validation").get_data(as_text=True)
    document = queue.split("/operateur/documents/")[1].split('"')[0]
    assert problems(client.get(f"/operateur/documents/{document}")) == []


def test_a_client_admin_s_pages_follow_french_typography(app, client, cast, world):
    from hiveo.demo.factories import make_company, make_relation, make_user

    with app.app_context():
        initech = make_company("Initech Services", establishments=1)
        dan = make_user("dan@example.com", name="Dan Donneur", profile="fast",
                        memberships=((initech, "admin"),))
        acme = db.session.get(Company, cast.acme_id)
        make_relation(initech, acme, by=dan, supplier_code="ACME-1")
        db.session.commit()
        client_siren = initech.siren
    login(client, "dan@example.com")
    base = f"/organisations/{client_siren}"
    supplier = f"{base}/fournisseurs/{ACME}"
    for path in (f"{base}/fournisseurs", f"{base}/fournisseurs?q=zzz",
                 f"{base}/fournisseurs/inviter", f"{base}/fournisseurs/importer",
                 f"{base}/exigences", supplier, f"{supplier}/references",
                 f"{supplier}/suspendre", f"{supplier}/cloturer"):
        assert problems(client.get(path)) == [], path
    assert problems(post(client, f"{base}/fournisseurs/inviter",
                         {"siren": "123", "email": "x"})) == []
    assert problems(post(client, f"{supplier}/suspendre", {"reason": ""})) == []


def test_an_operator_s_company_pages_follow_french_typography(app, client, cast, world):
    login(client, "olivia@example.com")
    for path in ("/operateur/entreprises", "/operateur/entreprises/nouveau-client",
                 "/operateur/comptes"):
        assert problems(client.get(path)) == [], path
