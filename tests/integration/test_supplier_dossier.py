"""A supplier's dossier seen by a client (issue 16, client pages 3, 4, 5 and requirements).

The cast: Acme (alice) is the supplier; Initech is its client (dan admin, erin
member); Hooli (frank) is another client of Acme, whose references Initech
must never read. Acme's dossier holds a document of every kind a client must
or must not see.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hiveo.demo.factories import (
    add_establishments,
    make_company,
    make_document,
    make_relation,
    make_user,
)
from hiveo.dossier.services import refuse_document
from hiveo.dossier.storage import storage
from hiveo.extensions import db
from hiveo.models import (
    AuditEvent,
    Company,
    Document,
    DocumentAccess,
    Establishment,
    Relation,
    RelationEvent,
    RelationState,
    Requirement,
    User,
)
from hiveo.relations import services as relations
from tests.conftest import TODAY
from tests.helpers import count_queries, login, page_text, post

BTP_ROW = '<th scope="row">Certificat caisse de congés payés BTP'


@dataclass(frozen=True)
class World:
    client: str  # Initech's SIREN
    supplier: str  # Acme's SIREN
    relation_id: int
    kbis_old: int
    kbis: int
    kbis_refused: int
    urssaf_pending: int
    lnte_expired: int
    fiscal_unshared: int
    rc_pro_shared: int
    foreign: int  # a document of Globex

    @property
    def page(self) -> str:
        return f"/organisations/{self.client}/fournisseurs/{self.supplier}"

    def file(self, document_id: int) -> str:
        return f"{self.page}/documents/{document_id}/fichier"


@pytest.fixture
def world(app, cast) -> World:
    with app.app_context():
        acme = db.session.get(Company, cast.acme_id)
        globex = db.session.get(Company, cast.globex_id)
        olivia = db.session.scalar(select(User).where(User.email == cast.olivia))
        initech = make_company("Initech Services", establishments=1)
        hooli = make_company("Hooli Achats", establishments=1)
        dan = make_user("dan@example.com", name="Dan Donneur", profile="fast",
                        memberships=((initech, "admin"),))
        make_user("erin@example.com", name="Erin Acheteuse", profile="fast",
                  memberships=((initech, "member"),))
        frank = make_user("frank@example.com", name="Frank Ailleurs", profile="fast",
                          memberships=((hooli, "admin"),))
        alice = db.session.scalar(select(User).where(User.email == "alice@example.com"))
        relation = make_relation(initech, acme, by=dan, supplier_code="ACME-1",
                                 accepted_by=alice)
        relations.update_references(relation, dan, relations.References(
            supplier_code="ACME-1", contract_ref="C-INITECH-7"))
        hooli_relation = make_relation(hooli, acme, by=frank, supplier_code="HOOLI-SECRET")
        relations.update_references(hooli_relation, frank, relations.References(
            supplier_code="HOOLI-SECRET", contract_ref="CONTRAT-HOOLI-99"))
        kbis_old = make_document(acme, "KBIS", issue_date=TODAY - timedelta(days=80))
        kbis = make_document(acme, "KBIS", issue_date=TODAY - timedelta(days=10))
        refused = make_document(acme, "KBIS", issue_date=TODAY - timedelta(days=2),
                                validated=False)
        refuse_document(refused.id, olivia, "Document illisible")
        pending = make_document(acme, "URSSAF_VIGILANCE", issue_date=TODAY - timedelta(days=3),
                                validity_start=TODAY - timedelta(days=3), validated=False)
        lnte = make_document(acme, "LNTE", issue_date=TODAY - timedelta(days=300))
        fiscal = make_document(acme, "FISCAL_REGULARITY", issue_date=TODAY - timedelta(days=5),
                               validity_end=TODAY + timedelta(days=200))
        rc_pro = make_document(acme, "INSURANCE_RC_PRO", issue_date=TODAY - timedelta(days=5),
                               validity_end=TODAY + timedelta(days=200))
        relations.share(relation, None, ["INSURANCE_RC_PRO"])
        foreign = make_document(globex, "KBIS", issue_date=TODAY - timedelta(days=10))
        db.session.commit()
        return World(initech.siren, acme.siren, relation.id, kbis_old.id, kbis.id, refused.id,
                     pending.id, lnte.id, fiscal.id, rc_pro.id, foreign.id)


def _text(response) -> str:
    """What a person reads: tags dropped, typography folded, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page_text(response)).split())


def _relation(world: World) -> Relation:
    relation = db.session.get(Relation, world.relation_id)
    assert relation is not None
    return relation


def _accesses(app, world: World) -> list[tuple[int, str, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(DocumentAccess.document_id, DocumentAccess.via, User.email)
            .join(User, User.id == DocumentAccess.user_id)
            .join(Company, Company.id == DocumentAccess.client_id)
            .where(Company.siren == world.client).order_by(DocumentAccess.id)).all()
        return [tuple(row) for row in rows]


# ---- What the client sees ----


def test_the_client_sees_the_required_types_and_what_the_supplier_shares(app, client, world):
    login(client, "erin@example.com")
    response = client.get(world.page)
    assert response.status_code == 200
    text = _text(response)
    for label in ("Extrait Kbis", "Attestation de vigilance URSSAF",
                  "Liste nominative des travailleurs étrangers",
                  "Attestation d'assurance responsabilité civile professionnelle"):
        assert label in text
    assert "(partagé par le fournisseur)" in text
    assert "Attestation de régularité fiscale" not in text
    assert "non conforme" in text
    assert "en cours de validation" in text and "expiré" in text
    html = response.get_data(as_text=True)
    for document_id in (world.kbis, world.kbis_old, world.lnte_expired, world.rc_pro_shared):
        assert world.file(document_id) in html
    for document_id in (world.kbis_refused, world.urssaf_pending, world.fiscal_unshared):
        assert world.file(document_id) not in html
    assert "1 version archivée" in text


def test_the_client_reads_its_own_references_never_another_clients(app, client, world):
    login(client, "erin@example.com")
    text = _text(client.get(world.page))
    assert "ACME-1" in text and "C-INITECH-7" in text
    assert "HOOLI-SECRET" not in text and "CONTRAT-HOOLI-99" not in text
    login(client, "frank@example.com")
    hooli = _text(client.get(world.page.replace(world.client, _siren_of("Hooli", app))))
    assert "HOOLI-SECRET" in hooli and "ACME-1" not in hooli


def _siren_of(prefix: str, app) -> str:
    with app.app_context():
        return db.session.scalar(select(Company.siren).where(Company.name.like(f"{prefix}%")))


def test_the_compliance_lists_what_is_missing_expired_refused_or_awaiting(app, client, world):
    login(client, "erin@example.com")
    text = _text(client.get(world.page))
    assert "2 documents exigés ne sont pas en règle" in text
    assert "Attestation de vigilance URSSAF — entreprise : en cours de validation" in text
    assert "Liste nominative des travailleurs étrangers — entreprise : expiré" in text


def test_the_history_shows_both_sides_actions(app, client, world):
    login(client, "erin@example.com")
    text = _text(client.get(world.page))
    assert "Invitation envoyée par Dan Donneur" in text
    assert "Invitation acceptée par Alice Admin" in text
    assert "Références modifiées par Dan Donneur" in text
    assert "Documents partagés modifiés" in text


def test_a_supplier_without_relation_and_other_clients_get_404(app, client, world, cast):
    login(client, "dan@example.com")
    assert client.get(f"/organisations/{world.client}/fournisseurs/{cast.globex}"
                      ).status_code == 404
    assert client.get(f"/organisations/{world.client}/fournisseurs/abc").status_code == 404
    for who in ("alice@example.com", "charlie@example.com"):
        login(client, who)
        assert client.get(world.page).status_code == 404
        assert client.get(world.file(world.kbis)).status_code == 404
        assert client.get(f"{world.page}/dossier.zip").status_code == 404


def test_an_invited_relation_shows_no_documents_yet(app, client, world, cast):
    with app.app_context():
        initech = db.session.scalar(select(Company).where(Company.siren == world.client))
        globex = db.session.get(Company, cast.globex_id)
        make_relation(initech, globex, state="invited", supplier_code="GLX-1")
        db.session.commit()
    login(client, "erin@example.com")
    page = f"/organisations/{world.client}/fournisseurs/{cast.globex}"
    text = _text(client.get(page))
    assert "attend la réponse de Globex Bâtiment" in text
    assert "Télécharger le dossier (ZIP)" not in text
    assert client.get(f"{page}/documents/{world.foreign}/fichier").status_code == 404
    assert client.get(f"{page}/dossier.zip").status_code == 404


# ---- Downloads ----


def test_pending_refused_unshared_and_neighbouring_documents_are_not_downloadable(
        app, client, world):
    login(client, "dan@example.com")
    refused = (world.kbis_refused, world.urssaf_pending, world.fiscal_unshared, world.foreign,
               world.foreign + 1, world.kbis + 1000, 0)
    for document_id in refused:
        assert client.get(world.file(document_id)).status_code == 404, document_id
    assert _accesses(app, world) == []


def test_a_download_is_an_attachment_recorded_for_the_client(app, client, world):
    login(client, "erin@example.com")
    for _ in range(2):
        response = client.get(world.file(world.kbis_old))
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.mimetype == "application/pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        policy = response.headers["Content-Security-Policy"]
        assert "sandbox" in policy and "default-src 'none'" in policy
        assert response.get_data().startswith(b"%PDF")
        response.close()
    response = client.get(world.file(world.rc_pro_shared))
    assert response.status_code == 200
    response.close()
    assert _accesses(app, world) == [(world.kbis_old, "download", "erin@example.com"),
                                     (world.kbis_old, "download", "erin@example.com"),
                                     (world.rc_pro_shared, "download", "erin@example.com")]


def test_a_missing_file_answers_500_and_records_nothing(app, client, world):
    with app.app_context():
        sha = db.session.get(Document, world.kbis).sha256
        storage().path(sha).unlink()
    login(client, "erin@example.com")
    assert client.get(world.file(world.kbis)).status_code == 500
    assert client.get(f"{world.page}/dossier.zip").status_code == 500
    assert _accesses(app, world) == []


# ---- The ZIP ----


def test_the_zip_holds_the_current_required_documents_and_a_matching_manifest(
        app, client, world):
    login(client, "erin@example.com")
    response = client.get(f"{world.page}/dossier.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert f"dossier-{world.supplier}-{TODAY.isoformat()}.zip" in (
        response.headers["Content-Disposition"])
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    response.close()
    names = set(archive.namelist())
    assert {"manifest.csv", "manifest.json"} <= names
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))
    with app.app_context():
        expected = {world.kbis: db.session.get(Document, world.kbis),
                    world.lnte_expired: db.session.get(Document, world.lnte_expired)}
        assert {row["fichier"] for row in rows} == {
            f"{d.doc_type}-{world.supplier}-{d.issue_date.isoformat()}-{d.id}.pdf"
            for d in expected.values()}
    assert names == {row["fichier"] for row in rows} | {"manifest.csv", "manifest.json"}
    for row in rows:
        assert hashlib.sha256(archive.read(row["fichier"])).hexdigest() == row["sha256"]
    states = {row["type"]: row["etat"] for row in rows}
    assert states == {"KBIS": "valide", "LNTE": "expiré"}
    kbis = next(row for row in rows if row["type"] == "KBIS")
    assert kbis["source"] == "Dépôt manuel"
    assert kbis["date_delivrance"] == (TODAY - timedelta(days=10)).isoformat()
    assert kbis["siret"] == ""
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["fournisseur"]["siren"] == world.supplier
    assert [line["sha256"] for line in manifest["documents"]] == [row["sha256"] for row in rows]
    assert sorted(_accesses(app, world)) == sorted(
        [(world.kbis, "zip", "erin@example.com"), (world.lnte_expired, "zip", "erin@example.com")])


def test_the_zip_takes_establishment_documents_in_scope_only(app, client, world):
    with app.app_context():
        acme = db.session.scalar(select(Company).where(Company.siren == world.supplier))
        initech = db.session.scalar(select(Company).where(Company.siren == world.client))
        sites = list(db.session.scalars(select(Establishment).where(
            Establishment.company_id == acme.id).order_by(Establishment.siret)))
        from hiveo.relations.requirements import Rule, set_requirements

        set_requirements(initech, "", [Rule("KBIS", "company"),
                                       Rule("BTP_PAID_LEAVE", "establishment")])
        relations.set_scope(_relation(world), None, sites[:2])
        for site in sites:
            make_document(acme, "BTP_PAID_LEAVE", establishment=site,
                          issue_date=TODAY - timedelta(days=5),
                          validity_end=TODAY + timedelta(days=90))
        db.session.commit()
        in_scope = {site.siret for site in sites[:2]}
    login(client, "erin@example.com")
    response = client.get(f"{world.page}/dossier.zip")
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    response.close()
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))
    assert {row["siret"] for row in rows if row["type"] == "BTP_PAID_LEAVE"} == in_scope
    assert {row["type"] for row in rows} == {"KBIS", "BTP_PAID_LEAVE"}
    assert client.get(world.page).get_data(as_text=True).count(BTP_ROW) == 2


# ---- Suspend, close, reactivate ----


def test_the_confirmation_is_a_page_and_a_dialog_with_cancel_first(app, client, world):
    login(client, "dan@example.com")
    response = client.get(f"{world.page}/suspendre")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<dialog" not in html
    assert html.index(">Annuler<") < html.index("Suspendre la relation</button>")
    assert 'name="reason"' in html and "Raison" in _text(response)
    dialog = client.get(f"{world.page}/cloturer", headers={"HX-Request": "true"})
    assert dialog.status_code == 200
    assert dialog.get_data(as_text=True).lstrip().startswith("<dialog")


def test_members_may_not_change_the_relation(app, client, world):
    login(client, "erin@example.com")
    for action in ("suspendre", "cloturer", "reactiver", "references"):
        assert client.get(f"{world.page}/{action}").status_code == 403
        assert post(client, f"{world.page}/{action}", {"reason": "Non"}).status_code == 403
    assert "Suspendre la relation" not in _text(client.get(world.page))
    with app.app_context():
        assert _relation(world).state == RelationState.ACTIVE


def test_suspending_asks_for_a_reason_on_its_field(app, client, world):
    login(client, "dan@example.com")
    response = post(client, f"{world.page}/suspendre", {"reason": "  "})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert "Indiquez la raison : le fournisseur la lira." in _text(response)
    fragment = post(client, f"{world.page}/cloturer", {"reason": ""}, htmx=True)
    assert fragment.status_code == 422
    assert fragment.get_data(as_text=True).lstrip().startswith('<form id="relation-action-form"')
    with app.app_context():
        assert _relation(world).state == RelationState.ACTIVE


def test_suspend_reactivate_close_and_reopen_through_the_pages(app, client, world):
    login(client, "dan@example.com")
    response = post(client, f"{world.page}/suspendre", {"reason": "Audit en cours"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(world.page)
    text = _text(client.get(world.page))
    assert "Relation avec Acme Nettoyage suspendue" in text
    assert "Audit en cours" in text and "suspendue" in text
    with app.app_context():
        relation = _relation(world)
        assert (relation.state, relation.state_reason) == ("suspended", "Audit en cours")
    # Suspending twice is refused by the service, said in French, nothing changes.
    assert post(client, f"{world.page}/suspendre", {"reason": "Encore"}).status_code == 303
    assert "Seule une relation active peut être suspendue" in _text(client.get(world.page))

    response = post(client, f"{world.page}/reactiver", htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].endswith(world.page)
    with app.app_context():
        assert _relation(world).state == RelationState.ACTIVE

    assert post(client, f"{world.page}/cloturer", {"reason": "Contrat terminé"}
                ).status_code == 303
    text = _text(client.get(world.page))
    assert "Contrat terminé" in text and "Relation clôturée" in text
    assert post(client, f"{world.page}/reactiver").status_code == 303
    with app.app_context():
        relation = _relation(world)
        assert relation.state == RelationState.INVITED and relation.state_reason is None
        actions = list(db.session.scalars(
            select(RelationEvent.action).where(RelationEvent.relation_id == world.relation_id)
            .order_by(RelationEvent.id)))
    assert actions[-4:] == ["suspended", "reactivated", "closed", "reinvited"]


def test_a_closed_relation_shows_only_its_history(app, client, world):
    login(client, "dan@example.com")
    post(client, f"{world.page}/cloturer", {"reason": "Fin du marché de nettoyage"})
    login(client, "erin@example.com")
    response = client.get(world.page)
    text = _text(response)
    assert "Fin du marché de nettoyage" in text
    assert "Historique de la relation" in text and "Relation clôturée par Dan Donneur" in text
    for hidden in ("ACME-1", "C-INITECH-7", "Extrait Kbis", "Télécharger le dossier (ZIP)",
                   "conforme"):
        assert hidden not in text, hidden
    assert client.get(world.file(world.kbis)).status_code == 404
    assert client.get(f"{world.page}/dossier.zip").status_code == 404
    assert _accesses(app, world) == []


def test_the_pages_offer_only_the_possible_actions(app, client, world):
    login(client, "dan@example.com")
    text = _text(client.get(world.page))
    assert "Suspendre la relation" in text and "Clôturer la relation" in text
    assert "Réactiver la relation" not in text
    assert "n'est pas possible" in _text(client.get(f"{world.page}/reactiver"))


@pytest.mark.parametrize("state", ["invited", "active", "suspended", "closed"])
@pytest.mark.parametrize("action", ["suspend", "close", "reactivate"])
def test_can_agrees_with_the_services(app, state, action):
    with app.app_context():
        client_company = make_company("Client")
        supplier = make_company("Fournisseur")
        relation = make_relation(client_company, supplier, state=state)
        offered = relations.can(relation, action)
        try:
            if action == "reactivate":
                relations.reactivate(relation, None)
            else:
                getattr(relations, action)(relation, None, "Une raison")
        except relations.RelationError:
            accepted = False
        else:
            accepted = True
        db.session.rollback()
        assert offered == accepted


# ---- References ----


def test_references_are_edited_and_the_code_stays_unique(app, client, world, cast):
    with app.app_context():
        initech = db.session.scalar(select(Company).where(Company.siren == world.client))
        make_relation(initech, db.session.get(Company, cast.globex_id), supplier_code="GLX-1")
        db.session.commit()
    login(client, "dan@example.com")
    form = client.get(f"{world.page}/references")
    assert form.status_code == 200
    assert 'value="ACME-1"' in form.get_data(as_text=True)
    for label in ("Code fournisseur", "Référence du contrat", "Catégorie d'achat",
                  "Description", "Fin de suivi"):
        assert label in _text(form)
    taken = post(client, f"{world.page}/references", {"supplier_code": "GLX-1"})
    assert taken.status_code == 422
    assert 'aria-invalid="true"' in taken.get_data(as_text=True)
    assert "Le code fournisseur « GLX-1 » est déjà utilisé" in _text(taken)
    bad_date = post(client, f"{world.page}/references",
                    {"supplier_code": "ACME-2", "tracking_end": "31/02/2027"})
    assert bad_date.status_code == 422
    done = post(client, f"{world.page}/references", {
        "supplier_code": " ACME-2 ", "contract_ref": "C-2027", "category": "Nettoyage",
        "description": "Bureaux de Lyon", "tracking_end": "2027-06-30"})
    assert done.status_code == 303
    with app.app_context():
        relation = _relation(world)
        assert (relation.supplier_code, relation.contract_ref, relation.category,
                relation.description, relation.tracking_end.isoformat()) == (
            "ACME-2", "C-2027", "Nettoyage", "Bureaux de Lyon", "2027-06-30")
    text = _text(client.get(world.page))
    assert "Références du fournisseur Acme Nettoyage enregistrées" in text and "ACME-2" in text
    login(client, "alice@example.com")
    assert "ACME-2" not in _text(client.get(f"/organisations/{world.supplier}/documents"))


# ---- Requirements ----


def _rules(app, siren: str) -> dict[str, set[tuple[str, str]]]:
    with app.app_context():
        rows = db.session.execute(
            select(Requirement.category, Requirement.doc_type, Requirement.level)
            .join(Company, Company.id == Requirement.client_id).where(Company.siren == siren))
        sets: dict[str, set[tuple[str, str]]] = {}
        for row in rows:
            sets.setdefault(row.category, set()).add((row.doc_type, row.level))
        return sets


def test_members_read_the_requirements_and_only_admins_change_them(app, client, world):
    page = f"/organisations/{world.client}/exigences"
    login(client, "erin@example.com")
    response = client.get(page)
    assert response.status_code == 200
    text = _text(response)
    assert "Exigences par défaut" in text and "Extrait Kbis" in text
    assert 'type="checkbox"' not in response.get_data(as_text=True)
    assert post(client, page, {"category": "", "type_KBIS": "1"}).status_code == 403
    assert _rules(app, world.client)[""] == {("KBIS", "company"), ("URSSAF_VIGILANCE", "company"),
                                            ("LNTE", "company")}


def test_admins_edit_the_default_set_and_category_sets(app, client, world):
    page = f"/organisations/{world.client}/exigences"
    login(client, "dan@example.com")
    assert 'type="checkbox"' in client.get(page).get_data(as_text=True)
    response = post(client, page, {"category": "", "type_KBIS": "1", "level_KBIS": "company",
                                   "type_URSSAF_VIGILANCE": "1"})
    assert response.status_code == 303
    assert _rules(app, world.client)[""] == {("KBIS", "company"),
                                            ("URSSAF_VIGILANCE", "company")}
    created = post(client, page, {"new": "1", "category": "Nettoyage", "type_KBIS": "1",
                                  "type_BTP_PAID_LEAVE": "1",
                                  "type_INSURANCE_RC_PRO": "1",
                                  "level_INSURANCE_RC_PRO": "establishment"})
    assert created.status_code == 303
    assert _rules(app, world.client)["Nettoyage"] == {
        ("KBIS", "company"), ("BTP_PAID_LEAVE", "establishment"),
        ("INSURANCE_RC_PRO", "establishment")}
    text = _text(client.get(page))
    assert "Exigences de la catégorie « Nettoyage » enregistrées" in text
    assert "Catégorie « Nettoyage »" in text
    again = post(client, page, {"new": "1", "category": "Nettoyage", "type_KBIS": "1"})
    assert again.status_code == 422
    assert "a déjà ses exigences" in _text(again)
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "requirements_set")) == 2

    # A relation of that category follows the category's set: three establishments'
    # paid-leave certificates appear, URSSAF no longer does.
    post(client, f"{world.page}/references", {"supplier_code": "ACME-1",
                                               "category": "Nettoyage"})
    dossier = client.get(world.page)
    assert dossier.get_data(as_text=True).count(BTP_ROW) == 3
    assert "Attestation de vigilance URSSAF" not in _text(dossier)

    removed = post(client, page, {"category": "Nettoyage"})
    assert removed.status_code == 303
    assert "Nettoyage" not in _rules(app, world.client)
    assert "Attestation de vigilance URSSAF" in _text(client.get(world.page))


def test_impossible_requirements_are_refused_with_422(app, client, world):
    page = f"/organisations/{world.client}/exigences"
    login(client, "dan@example.com")
    company_level = post(client, page, {"category": "", "type_KBIS": "1",
                                        "type_BTP_PAID_LEAVE": "1",
                                        "level_BTP_PAID_LEAVE": "company"})
    assert company_level.status_code == 422
    assert "ne peut être exigé qu'au niveau de l'établissement" in _text(company_level)
    empty = post(client, page, {"category": ""})
    assert empty.status_code == 422
    assert "Exigez au moins un document par défaut" in _text(empty)
    nameless = post(client, page, {"new": "1", "category": " ", "type_KBIS": "1"})
    assert nameless.status_code == 422
    assert "Indiquez la catégorie d'achat" in _text(nameless)
    assert _rules(app, world.client)[""] == {("KBIS", "company"), ("URSSAF_VIGILANCE", "company"),
                                            ("LNTE", "company")}


# ---- SQL statements ----


def _require_paid_leave(app, world: World) -> None:
    with app.app_context():
        initech = db.session.scalar(select(Company).where(Company.siren == world.client))
        from hiveo.relations.requirements import Rule, set_requirements

        set_requirements(initech, "", [Rule("KBIS", "company"), Rule("LNTE", "company"),
                                       Rule("BTP_PAID_LEAVE", "establishment")])
        db.session.commit()


def _grow(app, world: World, *, establishments: int, versions: int) -> None:
    """More establishments in scope, with their documents, and more versions of Acme's."""
    with app.app_context():
        acme = db.session.scalar(select(Company).where(Company.siren == world.supplier))
        add_establishments(acme, establishments, start=100)
        sites = list(db.session.scalars(select(Establishment).where(
            Establishment.company_id == acme.id)))
        for number in range(versions):
            make_document(acme, "LNTE", issue_date=TODAY - timedelta(days=40 - number))
        for site in sites:
            make_document(acme, "BTP_PAID_LEAVE", establishment=site,
                          issue_date=TODAY - timedelta(days=5),
                          validity_end=TODAY + timedelta(days=90))
        relations.set_scope(_relation(world), None, sites)
        db.session.commit()


def _statements(app, client, path: str) -> int:
    with count_queries(app) as statements:
        response = client.get(path)
    assert response.status_code == 200
    response.close()
    return len(statements)


def test_sql_statements_do_not_grow_with_documents_versions_or_establishments(
        app, client, world):
    _require_paid_leave(app, world)
    login(client, "erin@example.com")
    paths = [world.page, f"{world.page}/dossier.zip", world.file(world.kbis),
             f"/organisations/{world.client}/exigences"]
    before = [_statements(app, client, path) for path in paths]
    _grow(app, world, establishments=12, versions=5)
    after = [_statements(app, client, path) for path in paths]
    assert before == after
    assert client.get(world.page).get_data(as_text=True).count(BTP_ROW) == 15


def test_consultations_name_each_client_with_its_latest_reading(app, client, world):
    from hiveo.relations.access import consultations

    login(client, "erin@example.com")
    for document_id in (world.kbis, world.kbis, world.lnte_expired):
        client.get(world.file(document_id)).close()
    login(client, "frank@example.com")
    hooli = world.page.replace(world.client, _siren_of("Hooli", app))
    client.get(f"{hooli}/documents/{world.kbis}/fichier").close()
    with app.app_context():
        seen = consultations([world.kbis, world.lnte_expired, world.rc_pro_shared])
    assert sorted((c.client_name, c.times) for c in seen[world.kbis]) == [
        ("Hooli Achats", 1), ("Initech Services", 2)]
    assert [(c.client_name, c.times) for c in seen[world.lnte_expired]] == [
        ("Initech Services", 1)]
    assert world.rc_pro_shared not in seen


def test_establishment_slots_come_fifty_at_a_time(app, client, world):
    _require_paid_leave(app, world)
    with app.app_context():
        acme = db.session.scalar(select(Company).where(Company.siren == world.supplier))
        add_establishments(acme, 55, start=100)
        db.session.commit()
    login(client, "erin@example.com")
    first = client.get(world.page)
    assert first.get_data(as_text=True).count(BTP_ROW) == 50
    assert "Établissements 1 à 50 sur 58" in _text(first)
    second = client.get(f"{world.page}?page=2")
    assert second.get_data(as_text=True).count(BTP_ROW) == 8
    assert "Extrait Kbis" in _text(second)
    # The expired LNTE and 58 missing certificates count; the list shows twenty of them.
    assert "59 documents exigés ne sont pas en règle" in _text(first)
    assert "… et 39 autres" in _text(first)
