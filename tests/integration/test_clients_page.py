"""The supplier's "Mes clients" (issue 16, supplier pages): alice administers Acme, a
supplier of Initech and Hooli; bob is a member of Acme; charlie belongs to Globex."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from hiveo.demo.factories import make_company, make_document, make_relation, make_user
from hiveo.extensions import db
from hiveo.models import Company, Relation, RelationEvent, RelationShare
from hiveo.relations.requirements import Rule, set_requirements
from tests.conftest import TODAY
from tests.helpers import count_queries, login, post
from tests.helpers import page_text as page_html


def page_text(response) -> str:
    """What a person reads: the page without its tags, its spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page_html(response)).split())


@pytest.fixture
def world(app, cast):
    """Initech invites Acme (with its own references), Hooli follows Acme actively and
    requires the decennial insurance too, Umbrella suspended Acme, Soylent closed it."""
    with app.app_context():
        acme = db.session.get(Company, cast.acme_id)
        dan = make_user("dan@example.com", name="Dan Donneur", profile="fast")
        initech = make_company("Initech Services")
        hooli = make_company("Hooli Achats")
        umbrella = make_company("Umbrella Corp")
        soylent = make_company("Soylent Industries")
        invited = make_relation(initech, acme, state="invited", by=dan,
                                supplier_code="INI-SECRET-42", category="Catégorie confidentielle")
        invited.contract_ref = "CTR-CONFIDENTIEL"
        active = make_relation(hooli, acme, by=dan, supplier_code="HOO-7")
        set_requirements(hooli, "", [Rule("KBIS", "company"),
                                     Rule("INSURANCE_DECENNALE", "company")])
        make_relation(umbrella, acme, state="suspended", reason="Audit qualité en cours")
        make_relation(soylent, acme, state="closed", reason="Fin du marché de nettoyage")
        # Globex's own client, which Acme must never see.
        make_relation(make_company("Massive Dynamic"), db.session.get(Company, cast.globex_id))
        make_document(acme, "KBIS", issue_date=TODAY - timedelta(days=10))
        db.session.commit()
        return {"invited": invited.id, "active": active.id}


def _page(client, cast):
    return client.get(f"/organisations/{cast.acme}/clients")


def test_members_see_each_client_with_its_state_and_requirements(app, cast, world):
    client = app.test_client()
    login(client, cast.bob)
    response = _page(client, cast)
    assert response.status_code == 200
    text = page_text(response)
    for name in ("Initech Services", "Hooli Achats", "Umbrella Corp", "Soylent Industries"):
        assert name in text
    assert "Invitations en attente (1)" in text
    assert "Ce que Hooli Achats exige" in text
    assert "Attestation d'assurance décennale manquant" in text
    assert "Extrait Kbis (justificatif d'immatriculation) valide" in text
    assert "non conforme" in text
    # Members read; the answers and the sharing are the admins'.
    assert "Accepter" not in text and "Enregistrer le partage" not in text


def test_the_reason_of_a_suspension_or_closure_is_shown(app, cast, world):
    client = app.test_client()
    login(client, cast.bob)
    text = page_text(_page(client, cast))
    assert "Umbrella Corp a suspendu la relation" in text
    assert "Raison : Audit qualité en cours" in text
    assert "Relation clôturée le" in text and "Raison : Fin du marché de nettoyage" in text


def test_the_clients_references_are_never_shown(app, cast, world):
    client = app.test_client()
    login(client, cast.alice)
    text = page_text(_page(client, cast))
    for secret in ("INI-SECRET-42", "CTR-CONFIDENTIEL", "Catégorie confidentielle", "HOO-7"):
        assert secret not in text


def test_other_suppliers_relations_are_not_shown(app, cast, world):
    client = app.test_client()
    login(client, cast.alice)
    assert "Massive Dynamic" not in page_text(_page(client, cast))


def test_an_admin_accepts_an_invitation_after_a_confirmation(app, cast, world):
    client = app.test_client()
    login(client, cast.alice)
    path = f"/organisations/{cast.acme}/clients/{world['invited']}/accepter"
    confirmation = client.get(path)
    text = page_text(confirmation)
    assert confirmation.status_code == 200
    assert "Accepter l'invitation de Initech Services ?" in text
    assert text.index("Annuler") < text.index("Confirmer")
    response = post(client, path)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/organisations/{cast.acme}/clients")
    with app.app_context():
        relation = db.session.get(Relation, world["invited"])
        assert relation.state == "active"
        assert db.session.scalar(select(RelationEvent.action).where(
            RelationEvent.relation_id == relation.id).order_by(RelationEvent.id.desc())
            .limit(1)) == "accepted"
    text = page_text(client.get(f"/organisations/{cast.acme}/clients"))
    assert "Initech Services suit désormais votre dossier" in text
    assert "Invitation acceptée par Alice Admin" in text


def test_an_admin_declines_with_a_reason_the_client_reads(app, cast, world):
    client = app.test_client()
    login(client, cast.alice)
    path = f"/organisations/{cast.acme}/clients/{world['invited']}/decliner"
    assert "Raison" in page_text(client.get(path))
    response = post(client, path, {"reason": "Nous ne travaillons pas avec Initech."})
    assert response.status_code == 303
    with app.app_context():
        relation = db.session.get(Relation, world["invited"])
        assert (relation.state, relation.state_reason) == (
            "closed", "Nous ne travaillons pas avec Initech.")


def test_a_decline_without_a_reason_is_accepted(app, cast, world):
    client = app.test_client()
    login(client, cast.alice)
    response = post(client, f"/organisations/{cast.acme}/clients/{world['invited']}/decliner")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Relation, world["invited"]).state == "closed"


def test_a_too_long_reason_comes_back_on_its_field(app, cast, world):
    client = app.test_client()
    login(client, cast.alice)
    response = post(client, f"/organisations/{cast.acme}/clients/{world['invited']}/decliner",
                    {"reason": "x" * 501})
    assert response.status_code == 422
    assert "500 caractères au plus." in page_text(response)
    with app.app_context():
        assert db.session.get(Relation, world["invited"]).state == "invited"


def test_answering_twice_says_the_invitation_no_longer_waits(app, cast, world):
    client = app.test_client()
    login(client, cast.alice)
    path = f"/organisations/{cast.acme}/clients/{world['invited']}/accepter"
    post(client, path)
    response = post(client, path)
    assert response.status_code == 303
    text = page_text(client.get(f"/organisations/{cast.acme}/clients"))
    assert "Cette invitation n'attend plus de réponse (relation active)." in text


def test_the_confirmation_opens_as_a_dialog_with_htmx(app, cast, world):
    client = app.test_client()
    login(client, cast.alice)
    response = client.get(f"/organisations/{cast.acme}/clients/{world['invited']}/accepter",
                          headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<dialog") and "<html" not in html


def test_members_may_not_answer_or_share(app, cast, world):
    client = app.test_client()
    login(client, cast.bob)
    base = f"/organisations/{cast.acme}/clients/{world['invited']}"
    assert client.get(f"{base}/accepter").status_code == 403
    assert post(client, f"{base}/accepter").status_code == 403
    assert post(client, f"{base}/partage", {"doc_types": ["FISCAL_REGULARITY"]}).status_code == 403
    with app.app_context():
        assert db.session.get(Relation, world["invited"]).state == "invited"


def test_outsiders_and_other_companies_relations_get_404(app, cast, world):
    client = app.test_client()
    login(client, cast.charlie)
    assert _page(client, cast).status_code == 404
    login(client, cast.alice)
    with app.app_context():
        foreign = db.session.scalar(select(Relation.id).where(
            Relation.supplier_id == cast.globex_id))
    base = f"/organisations/{cast.acme}/clients/{foreign}"
    assert client.get(f"{base}/accepter").status_code == 404
    assert post(client, f"{base}/accepter").status_code == 404
    assert post(client, f"{base}/partage").status_code == 404
    assert client.get(f"/organisations/{cast.acme}/clients/{world['invited']}/peutetre"
                      ).status_code == 404


def test_an_admin_shares_complementary_types_with_one_client(app, cast, world):
    client = app.test_client()
    login(client, cast.alice)
    response = post(client, f"/organisations/{cast.acme}/clients/{world['active']}/partage",
                    {"doc_types": ["FISCAL_REGULARITY", "INSURANCE_RC_PRO"]})
    assert response.status_code == 303
    with app.app_context():
        assert set(db.session.scalars(select(RelationShare.doc_type).where(
            RelationShare.relation_id == world["active"]))) == {"FISCAL_REGULARITY",
                                                                 "INSURANCE_RC_PRO"}
    html = client.get(f"/organisations/{cast.acme}/clients").get_data(as_text=True)
    assert f'id="share-{world["active"]}-FISCAL_REGULARITY" name="doc_types" ' \
           'value="FISCAL_REGULARITY" checked' in html
    # Hooli requires the decennial insurance: it is not offered for sharing.
    assert f'id="share-{world["active"]}-INSURANCE_DECENNALE"' not in html
    # Unchecking everything stops the sharing.
    post(client, f"/organisations/{cast.acme}/clients/{world['active']}/partage")
    with app.app_context():
        assert db.session.scalars(select(RelationShare.doc_type).where(
            RelationShare.relation_id == world["active"])).all() == []
    assert "Documents partagés modifiés" in page_text(
        client.get(f"/organisations/{cast.acme}/clients"))


def test_an_unknown_type_is_refused_and_nothing_is_shared(app, cast, world):
    client = app.test_client()
    login(client, cast.alice)
    post(client, f"/organisations/{cast.acme}/clients/{world['active']}/partage",
         {"doc_types": ["FISCAL_REGULARITY", "NOPE"]})
    text = page_text(client.get(f"/organisations/{cast.acme}/clients"))
    assert "Type de document inconnu : NOPE." in text
    with app.app_context():
        assert db.session.scalars(select(RelationShare.doc_type).where(
            RelationShare.relation_id == world["active"])).all() == []


def test_a_company_without_clients_sees_an_empty_state(app, cast):
    client = app.test_client()
    login(client, cast.charlie)
    text = page_text(client.get(f"/organisations/{cast.globex}/clients"))
    assert "Aucun client ne suit encore le dossier de Globex Bâtiment." in text


def test_the_company_page_links_to_mes_clients(app, cast):
    client = app.test_client()
    login(client, cast.bob)
    html = client.get(f"/organisations/{cast.acme}").get_data(as_text=True)
    assert f'href="/organisations/{cast.acme}/clients"' in html


def test_the_page_costs_the_same_queries_for_2_and_30_clients(app, cast):
    counts = {}
    for size in (2, 30):
        with app.app_context():
            supplier = make_company(f"Fournisseur {size}", establishments=3)
            make_user(f"admin{size}@example.com", profile="fast",
                      memberships=((supplier, "admin"),))
            for index in range(size):
                buyer = make_company(f"Client {size}-{index}")
                set_requirements(buyer, "", [Rule("KBIS", "company"),
                                             Rule("BTP_PAID_LEAVE", "establishment")])
                relation = make_relation(buyer, supplier,
                                         state=("active", "invited", "suspended")[index % 3])
                db.session.add(RelationShare(relation_id=relation.id, doc_type="LNTE"))
            make_document(supplier, "KBIS", issue_date=date(2026, 11, 1))
            db.session.commit()
            siren = supplier.siren
        client = app.test_client()
        login(client, f"admin{size}@example.com")
        with count_queries(app) as statements:
            response = client.get(f"/organisations/{siren}/clients")
        assert response.status_code == 200
        assert "par établissement : 0 sur 3 établissements en règle" in page_text(response)
        counts[size] = len(statements)
    assert counts[2] == counts[30], counts
