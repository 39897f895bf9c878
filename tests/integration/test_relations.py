"""The life of a relation (DOMAIN.md 5): every transition, its history, its refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hiveo.demo.factories import make_company, make_relation, make_user
from hiveo.extensions import db
from hiveo.models import Company, Relation, RelationEvent, Requirement
from hiveo.relations import services as relations
from hiveo.relations.services import References, RelationError


@pytest.fixture
def pair(app):
    with app.app_context():
        client = make_company("Initech Services", establishments=1)
        supplier = make_company("Acme Nettoyage", establishments=2)
        dan = make_user("dan@example.com", profile="fast", memberships=((client, "admin"),))
        alice = make_user("alice@example.com", profile="fast",
                          memberships=((supplier, "admin"),))
        db.session.commit()
        return client.id, supplier.id, dan.id, alice.id


def _load(pair):
    from hiveo.models import User

    client_id, supplier_id, dan_id, alice_id = pair
    return (db.session.get(Company, client_id), db.session.get(Company, supplier_id),
            db.session.get(User, dan_id), db.session.get(User, alice_id))


def _history(relation: Relation) -> list[tuple[str, str | None]]:
    return [(e.action, e.reason) for e in db.session.scalars(
        select(RelationEvent).where(RelationEvent.relation_id == relation.id)
        .order_by(RelationEvent.id))]


def test_a_relation_goes_from_invitation_to_closure_and_back(app, pair):
    with app.app_context():
        client, supplier, dan, alice = _load(pair)
        relation, created = relations.open_relation(
            client, supplier, dan, contact_email="alice@example.com",
            references=References(supplier_code=" ACME-1 ", category="Nettoyage"))
        assert created and relation.state == "invited"
        assert relation.supplier_code == "ACME-1"
        assert client.is_client
        relations.accept(relation, alice)
        assert relation.state == "active" and relation.accepted_at is not None
        relations.suspend(relation, dan, "Attestation URSSAF en retard")
        assert (relation.state, relation.state_reason) == (
            "suspended", "Attestation URSSAF en retard")
        relations.reactivate(relation, dan)
        assert relation.state == "active" and relation.state_reason is None
        relations.close(relation, dan, "Contrat terminé")
        assert relation.state == "closed"
        # A closed relation is invited anew: the supplier consents again.
        relations.reactivate(relation, dan)
        assert relation.state == "invited" and relation.accepted_at is None
        db.session.commit()
        assert _history(relation) == [
            ("invited", None), ("accepted", None),
            ("suspended", "Attestation URSSAF en retard"), ("reactivated", None),
            ("closed", "Contrat terminé"), ("reinvited", None)]
        assert db.session.scalar(select(Relation.id).where(Relation.id == relation.id))


def test_a_client_gets_the_legal_dossier_as_its_default_requirements(app, pair):
    with app.app_context():
        client, supplier, dan, _alice = _load(pair)
        relations.open_relation(client, supplier, dan)
        db.session.commit()
        assert sorted(db.session.scalars(select(Requirement.doc_type).where(
            Requirement.client_id == client.id, Requirement.category == ""))) == [
            "KBIS", "LNTE", "URSSAF_VIGILANCE"]


@pytest.mark.parametrize("state, change, message", [
    ("invited", "suspend", "Seule une relation active peut être suspendue"),
    ("active", "accept", "n'attend plus de réponse"),
    ("active", "decline", "n'attend plus de réponse"),
    ("active", "reactivate", "Seule une relation suspendue ou clôturée"),
    ("closed", "close", "déjà clôturée"),
])
def test_impossible_transitions_are_refused_in_french(app, pair, state, change, message):
    with app.app_context():
        client, supplier, dan, _alice = _load(pair)
        relation = make_relation(client, supplier, state=state, by=dan)
        db.session.commit()
        arguments = (relation, dan, "Une raison") if change in ("suspend", "close") else (
            relation, dan)
        with pytest.raises(RelationError, match=message):
            getattr(relations, change)(*arguments)


@pytest.mark.parametrize("change", ["suspend", "close"])
def test_suspending_or_closing_needs_a_reason_the_supplier_will_read(app, pair, change):
    with app.app_context():
        client, supplier, dan, _alice = _load(pair)
        relation = make_relation(client, supplier, by=dan)
        with pytest.raises(RelationError, match="raison") as refused:
            getattr(relations, change)(relation, dan, "   ")
        assert refused.value.field == "reason"


def test_a_declined_invitation_is_closed_with_the_suppliers_reason_or_a_default(app, pair):
    with app.app_context():
        client, supplier, dan, alice = _load(pair)
        relation = make_relation(client, supplier, state="invited", by=dan)
        relations.decline(relation, alice)
        assert relation.state == "closed"
        assert relation.state_reason == "Invitation déclinée par le fournisseur."


def test_a_client_cannot_invite_itself_nor_a_supplier_it_already_follows(app, pair):
    with app.app_context():
        client, supplier, dan, _alice = _load(pair)
        with pytest.raises(RelationError, match="propre fournisseur"):
            relations.open_relation(client, client, dan)
        make_relation(client, supplier, by=dan)
        with pytest.raises(RelationError, match="déjà votre fournisseur"):
            relations.open_relation(client, supplier, dan)


def test_reinviting_a_closed_supplier_reopens_the_same_relation(app, pair):
    with app.app_context():
        client, supplier, dan, _alice = _load(pair)
        relation = make_relation(client, supplier, state="closed", by=dan)
        again, created = relations.open_relation(client, supplier, dan)
        assert not created and again.id == relation.id and again.state == "invited"
        db.session.commit()
        assert db.session.scalar(select(db.func.count(Relation.id))) == 1


def test_a_supplier_code_is_unique_per_client_only(app, pair):
    with app.app_context():
        client, supplier, dan, _alice = _load(pair)
        other = make_company("Globex", establishments=1)
        hooli = make_company("Hooli", establishments=1)
        make_relation(client, supplier, by=dan, supplier_code="F-001")
        with pytest.raises(RelationError, match="déjà utilisé") as refused:
            relations.open_relation(client, other, dan, references=References("F-001"))
        assert refused.value.field == "supplier_code"
        # Another client may use the same code for its own supplier.
        make_relation(hooli, supplier, supplier_code="F-001")
        relation = make_relation(client, other, by=dan, supplier_code="F-002")
        with pytest.raises(RelationError, match="déjà utilisé"):
            relations.update_references(relation, dan, References("F-001"))


def test_changing_references_records_which_ones_changed(app, pair):
    with app.app_context():
        client, supplier, dan, _alice = _load(pair)
        relation = make_relation(client, supplier, by=dan, supplier_code="F-001")
        relations.update_references(relation, dan, References("F-001", contract_ref="C-42"))
        relations.update_references(relation, dan, References("F-001", contract_ref="C-42"))
        db.session.commit()
        events = db.session.scalars(select(RelationEvent).where(
            RelationEvent.relation_id == relation.id, RelationEvent.action == "references")).all()
        assert [e.details["changed"] for e in events] == [["contract_ref"]]


def test_a_scope_holds_only_the_suppliers_own_establishments(app, pair):
    from hiveo.models import Establishment

    with app.app_context():
        client, supplier, dan, _alice = _load(pair)
        foreign = db.session.scalars(select(Establishment).where(
            Establishment.company_id == client.id)).first()
        relation = make_relation(client, supplier, by=dan)
        with pytest.raises(RelationError, match="n'appartient pas"):
            relations.set_scope(relation, dan, [foreign])


def test_a_supplier_shares_only_complementary_types(app, pair):
    with app.app_context():
        client, supplier, dan, alice = _load(pair)
        relation = make_relation(client, supplier, by=dan)
        shared = relations.share(relation, alice, ["KBIS", "INSURANCE_RC_PRO"])
        assert shared == {"INSURANCE_RC_PRO"}  # KBIS is required: always visible
        with pytest.raises(RelationError, match="inconnu"):
            relations.share(relation, alice, ["NOPE"])
        assert relations.shared_types(relation.id) == {"INSURANCE_RC_PRO"}


def _mails(subject_part: str = "") -> list[tuple[str, str, str]]:
    from hiveo.models import OutboxMessage

    return [(m.recipient, m.subject, m.text_body) for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "relation_change")
        .order_by(OutboxMessage.id)) if subject_part in m.subject]


def test_the_supplier_admins_are_mailed_each_change_the_client_makes_with_its_reason(app, pair):
    with app.app_context():
        client, supplier, dan, alice = _load(pair)
        make_user("bob@example.com", profile="fast", memberships=((supplier, "admin"),))
        make_user("carl@example.com", profile="fast", memberships=((supplier, "member"),))
        relation, _ = relations.open_relation(client, supplier, dan,
                                              contact_email="contact@example.com")
        relations.accept(relation, alice)
        assert _mails() == []
        relations.suspend(relation, dan, "Attestation URSSAF en retard")
        relations.reactivate(relation, dan)
        relations.close(relation, dan, "Contrat terminé")
        relations.reactivate(relation, dan)
        db.session.commit()
        mails = _mails()
        # Each change to both admins (not the member, not the contact), in order.
        assert [(recipient, subject) for recipient, subject, _ in mails] == [
            (address, subject)
            for subject in ("Initech Services a suspendu sa relation avec Acme Nettoyage",
                            "Initech Services a réactivé sa relation avec Acme Nettoyage",
                            "Initech Services a clôturé sa relation avec Acme Nettoyage",
                            "Initech Services vous invite à nouveau à partager vos documents "
                            "sur hiveo")
            for address in ("alice@example.com", "bob@example.com")]
        suspended, closed, reinvited = mails[0][2], mails[4][2], mails[6][2]
        assert "Raison indiquée\u00a0: Attestation URSSAF en retard" in suspended
        assert "Raison indiquée\u00a0: Contrat terminé" in closed
        assert "ne voit aucun de vos documents" in reinvited
        link = f"/organisations/{supplier.siren}/clients"
        assert all(link in body for _, _, body in mails)


def test_a_refused_change_mails_nobody_and_a_supplier_without_admins_has_its_contact_told(
        app, pair):
    with app.app_context():
        client, _supplier, dan, _alice = _load(pair)
        newcomer = make_company("Nouvelle Entreprise")
        relation, _ = relations.open_relation(client, newcomer, dan,
                                              contact_email="contact@nouvelle.example")
        with pytest.raises(RelationError):
            relations.suspend(relation, dan, "Pas encore acceptée")
        relations.close(relation, dan, "Plus de besoin")
        db.session.commit()
        assert [(r, s) for r, s, _ in _mails()] == [
            ("contact@nouvelle.example",
             "Initech Services a clôturé sa relation avec Nouvelle Entreprise")]


def test_a_relation_switched_back_and_forth_mails_four_changes_a_day_at_most(app, pair):
    with app.app_context():
        client, supplier, dan, alice = _load(pair)
        relation, _ = relations.open_relation(client, supplier, dan)
        relations.accept(relation, alice)
        for _ in range(4):
            relations.suspend(relation, dan, "Vérification en cours")
            relations.reactivate(relation, dan)
        db.session.commit()
        assert len(_mails()) == relations.MAX_CHANGE_MAILS == 4
        # Every change is still in the history both sides read.
        assert [action for action, _ in _history(relation)].count("suspended") == 4


def test_a_suspended_admin_is_not_mailed_the_clients_changes(app, pair):
    from hiveo.models import User, utcnow

    with app.app_context():
        client, supplier, dan, alice = _load(pair)
        bob = make_user("bob@example.com", profile="fast", memberships=((supplier, "admin"),))
        bob.suspended_at = utcnow()
        relation, _ = relations.open_relation(client, supplier, dan)
        relations.accept(relation, alice)
        relations.suspend(relation, dan, "Vérification en cours")
        db.session.commit()
        assert [recipient for recipient, _, _ in _mails()] == ["alice@example.com"]
        assert db.session.get(User, bob.id).suspended_at is not None
