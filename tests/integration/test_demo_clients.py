"""The demo world's client side: two clients, 160 generated suppliers in every state."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hiveo.demo.companies import CLINIQUE, DURAND, FONCIERE, SUPPLIER_PROFILES, demo_suppliers
from hiveo.demo.load import accounts_text, load_demo
from hiveo.dossier.states import State, sql_dates
from hiveo.extensions import db
from hiveo.models import Company, Relation, RelationEvent
from hiveo.relations.compliance import compliance_figures, relation_compliance
from hiveo.relations.requirements import client_rules
from hiveo.relations.services import shared_types
from tests.conftest import TODAY


@pytest.fixture
def demo(app):
    with app.app_context():
        load_demo("fast")
        db.session.commit()
    return app


def company_id(siren: str) -> int:
    return db.session.scalar(select(Company.id).where(Company.siren == siren))


def relations_of(siren: str) -> list[Relation]:
    return list(db.session.scalars(select(Relation).where(
        Relation.client_id == company_id(siren)).order_by(Relation.id)))


def test_the_big_client_follows_more_than_150_suppliers_in_every_state(demo):
    with demo.app_context():
        relations = relations_of(FONCIERE.siren)
        assert len(relations) >= 150
        states = Counter(relation.state for relation in relations)
        assert states["active"] > 100
        assert states["invited"] >= 10
        assert states["suspended"] >= 5 and states["closed"] >= 5
        assert all(relation.state_reason for relation in relations
                   if relation.state in ("suspended", "closed"))
        assert db.session.scalar(select(Company.is_client).where(
            Company.siren == FONCIERE.siren))


def test_the_list_query_sees_compliant_and_non_compliant_suppliers_with_their_reasons(demo):
    with demo.app_context():
        client = company_id(FONCIERE.siren)
        figures = compliance_figures(Relation.client_id == client, Relation.state == "active")
        rows = db.session.execute(
            select(Relation, figures.c.unmet, figures.c.next_expiry.label("expiry"))
            .join(figures, figures.c.relation_id == Relation.id),
            sql_dates(TODAY)).all()
        compliant = [row for row in rows if row.unmet == 0]
        assert len(compliant) >= 60 and len(rows) - len(compliant) >= 40
        expiring = [row for row in compliant
                    if row.expiry is not None and row.expiry <= TODAY + timedelta(days=30)]
        assert len(expiring) >= 10
        # What is wrong, supplier by supplier: every kind of problem is there.
        problems = Counter()
        for row in rows:
            if row.unmet:
                for item in relation_compliance(row.Relation, TODAY).problems:
                    problems[item.state] += 1
        assert {State.MISSING, State.EXPIRED, State.REFUSED, State.PENDING} <= set(problems)


def test_the_python_and_sql_compliance_agree_on_every_generated_supplier(demo):
    with demo.app_context():
        figures = compliance_figures(Relation.client_id == company_id(FONCIERE.siren))
        rows = db.session.execute(
            select(Relation, figures.c.unmet).join(figures, figures.c.relation_id == Relation.id),
            sql_dates(TODAY)).all()
        for row in rows:
            assert relation_compliance(row.Relation, TODAY).compliant == (row.unmet == 0)


def test_some_suppliers_never_deposited_anything(demo):
    from hiveo.models import Document

    with demo.app_context():
        never = [supplier.siren for supplier in demo_suppliers() if supplier.profile == "never"]
        assert len(never) == dict(SUPPLIER_PROFILES)["never"]
        count = db.session.scalar(select(func.count(Document.id)).join(
            Company, Company.id == Document.company_id).where(Company.siren.in_(never)))
        assert count == 0


def test_purchase_categories_have_their_own_requirement_sets(demo):
    with demo.app_context():
        sets = client_rules(company_id(FONCIERE.siren))
        assert [rule.doc_type for rule in sets[""]] == ["KBIS", "URSSAF_VIGILANCE", "LNTE"]
        travaux = {(rule.doc_type, rule.level) for rule in sets["Travaux"]}
        assert ("INSURANCE_DECENNALE", "company") in travaux
        assert ("BTP_PAID_LEAVE", "establishment") in travaux
        assert len([category for category in sets if category]) >= 3
        categories = Counter(relation.category for relation in relations_of(FONCIERE.siren))
        assert len([category for category in categories if category]) >= 3


def test_the_small_client_shares_its_suppliers_with_the_big_one(demo):
    with demo.app_context():
        small = relations_of(CLINIQUE.siren)
        assert 3 <= len(small) <= 15
        big = {relation.supplier_id for relation in relations_of(FONCIERE.siren)}
        assert {relation.supplier_id for relation in small} <= big
        # A demo company has an invitation to answer from it.
        durand = company_id(DURAND.siren)
        assert any(relation.supplier_id == durand and relation.state == "invited"
                   for relation in small)


def test_supplier_codes_are_unique_per_client_and_each_relation_has_its_history(demo):
    with demo.app_context():
        relations = relations_of(FONCIERE.siren)
        codes = [relation.supplier_code for relation in relations if relation.supplier_code]
        assert len(codes) == len(set(codes)) >= 150
        with_history = db.session.scalar(
            select(func.count(func.distinct(RelationEvent.relation_id))).where(
                RelationEvent.relation_id.in_([relation.id for relation in relations])))
        assert with_history == len(relations)
        suspended = next(r for r in relations if r.state == "suspended")
        actions = list(db.session.scalars(select(RelationEvent.action).where(
            RelationEvent.relation_id == suspended.id).order_by(RelationEvent.id)))
        assert actions == ["invited", "accepted", "suspended"]


def test_a_demo_supplier_shares_a_complementary_document_with_the_big_client(demo):
    with demo.app_context():
        relation = db.session.scalar(select(Relation).where(
            Relation.client_id == company_id(FONCIERE.siren),
            Relation.supplier_id == company_id(DURAND.siren)))
        assert shared_types(relation.id) == {"FISCAL_REGULARITY"}


def test_the_accounts_text_names_the_client_admin_and_member(demo):
    text = accounts_text()
    assert "julie.moreau@fonciere-rhone.fr" in text
    assert "admin de Foncière Rhône Habitat" in text
    assert "karim.haddad@fonciere-rhone.fr" in text
    assert "membre de Foncière Rhône Habitat" in text
