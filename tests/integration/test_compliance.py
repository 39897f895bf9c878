"""Compliance of a relation (DOMAIN.md 5): the Python answer and the SQL one agree.

Suppliers get documents whose end dates sit around every boundary of the
states (yesterday, today, the 30-day horizon and the day after), in every
review state, at company and establishment level; each relation's Python
verdict must match the SQL expressions that lists use.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from hiveo.demo.factories import make_company, make_document, make_relation, make_user
from hiveo.dossier.services import refuse_document
from hiveo.dossier.states import State, sql_dates
from hiveo.extensions import db
from hiveo.models import Company, Establishment, Relation
from hiveo.relations.compliance import compliance_figures, never_deposited, relation_compliance
from hiveo.relations.requirements import Rule, set_requirements, supplier_requirements
from hiveo.relations.services import set_scope
from tests.conftest import TODAY

ENDS = {
    "expired yesterday": TODAY - timedelta(days=1),
    "ends today": TODAY,
    "ends at the horizon": TODAY + timedelta(days=30),
    "ends after the horizon": TODAY + timedelta(days=31),
}


def _vigilance(company, end: date, **kwargs):
    return make_document(company, "URSSAF_VIGILANCE", issue_date=end - timedelta(days=100),
                         validity_start=end - timedelta(days=100), validity_end=end, **kwargs)


def _complete(company, *, vigilance_end: date, **kwargs):
    make_document(company, "KBIS", issue_date=TODAY - timedelta(days=10))
    make_document(company, "LNTE", issue_date=TODAY - timedelta(days=10))
    return _vigilance(company, vigilance_end, **kwargs)


def _sql(relation_ids: list[int], today: date = TODAY) -> dict[int, tuple]:
    figures = compliance_figures(Relation.id.in_(relation_ids))
    rows = db.session.execute(
        select(Relation.id, figures.c.unmet, figures.c.unmet == 0, figures.c.next_expiry,
               never_deposited()).join(figures, figures.c.relation_id == Relation.id),
        sql_dates(today))
    return {row[0]: tuple(row[1:]) for row in rows}


@pytest.fixture
def client_company(app):
    with app.app_context():
        client = make_company("Initech Services", establishments=1)
        db.session.commit()
        return client.id


def test_python_and_sql_agree_around_every_boundary(app, client_company):
    with app.app_context():
        client = db.session.get(Company, client_company)
        olivia = make_user("olivia@example.com", profile="fast", operator=True)
        relations = {}
        for name, end in ENDS.items():
            supplier = make_company(f"Fournisseur {name}", establishments=1)
            _complete(supplier, vigilance_end=end)
            relations[name] = make_relation(client, supplier)
        pending = make_company("Fournisseur en attente", establishments=1)
        make_document(pending, "KBIS", issue_date=TODAY)
        make_document(pending, "LNTE", issue_date=TODAY)
        _vigilance(pending, TODAY + timedelta(days=90), validated=False)
        relations["pending"] = make_relation(client, pending)
        refused = make_company("Fournisseur refusé", establishments=1)
        make_document(refused, "KBIS", issue_date=TODAY)
        make_document(refused, "LNTE", issue_date=TODAY)
        document = _vigilance(refused, TODAY + timedelta(days=90), validated=False)
        refuse_document(document.id, olivia, "Illisible")
        relations["refused"] = make_relation(client, refused)
        empty = make_company("Fournisseur vide", establishments=1)
        relations["never"] = make_relation(client, empty)
        db.session.commit()

        sql = _sql([r.id for r in relations.values()])
        verdicts = {}
        for name, relation in relations.items():
            python = relation_compliance(relation, TODAY)
            unmet, compliant, expiry, never = sql[relation.id]
            assert bool(compliant) is python.compliant, name
            assert unmet == len(python.problems), name
            assert expiry == python.next_expiry, name
            assert bool(never) is (name == "never"), name
            verdicts[name] = (python.compliant, [p.state for p in python.problems])

    assert verdicts["expired yesterday"] == (False, [State.EXPIRED])
    assert verdicts["ends today"] == (True, [])  # expiring is still compliant
    assert verdicts["ends at the horizon"] == (True, [])
    assert verdicts["ends after the horizon"] == (True, [])
    assert verdicts["pending"] == (False, [State.PENDING])
    assert verdicts["refused"] == (False, [State.REFUSED])
    assert verdicts["never"] == (False, [State.MISSING] * 3)


def test_the_day_after_the_end_a_supplier_is_no_longer_compliant(app, client_company):
    with app.app_context():
        client = db.session.get(Company, client_company)
        supplier = make_company("Fournisseur", establishments=1)
        _complete(supplier, vigilance_end=TODAY)
        relation = make_relation(client, supplier)
        db.session.commit()
        tomorrow = TODAY + timedelta(days=1)
        assert relation_compliance(relation, TODAY).compliant
        assert not relation_compliance(relation, tomorrow).compliant
        assert _sql([relation.id], TODAY)[relation.id][1]
        assert not _sql([relation.id], tomorrow)[relation.id][1]


def test_a_multi_occurrence_type_is_held_only_while_every_current_copy_is_in_force(
        app, client_company):
    """Two RC Pro certificates held at once (two insurers): one ending yesterday makes the
    requirement unmet, in Python and in SQL alike; the earliest end of those in force
    is the next expiry."""
    with app.app_context():
        client = db.session.get(Company, client_company)
        set_requirements(client, "", [Rule("KBIS", "company"),
                                      Rule("INSURANCE_RC_PRO", "company")])
        relations = {}
        for name, ends in {"both in force": (TODAY + timedelta(days=20),
                                             TODAY + timedelta(days=200)),
                           "one expired": (TODAY - timedelta(days=1),
                                           TODAY + timedelta(days=200))}.items():
            supplier = make_company(f"Assuré {name}", establishments=1)
            make_document(supplier, "KBIS", issue_date=TODAY - timedelta(days=10))
            for end in ends:
                make_document(supplier, "INSURANCE_RC_PRO",
                              issue_date=TODAY - timedelta(days=300), validity_end=end)
            relations[name] = make_relation(client, supplier)
        db.session.commit()
        sql = _sql([r.id for r in relations.values()])
        for name, relation in relations.items():
            python = relation_compliance(relation, TODAY)
            unmet, compliant, expiry, _never = sql[relation.id]
            assert (bool(compliant), unmet, expiry) == (
                python.compliant, len(python.problems), python.next_expiry), name
        assert relation_compliance(relations["both in force"], TODAY).next_expiry == (
            TODAY + timedelta(days=20))
        assert [p.state for p in relation_compliance(relations["one expired"],
                                                     TODAY).problems] == [State.EXPIRED]


def test_establishment_level_rules_ask_every_covered_establishment(app, client_company):
    with app.app_context():
        client = db.session.get(Company, client_company)
        set_requirements(client, "", [Rule("KBIS", "company"),
                                      Rule("BTP_PAID_LEAVE", "establishment")])
        supplier = make_company("Bâtisseurs", establishments=3)
        first, second, third = db.session.scalars(
            select(Establishment).where(Establishment.company_id == supplier.id)
            .order_by(Establishment.siret)).all()
        make_document(supplier, "KBIS", issue_date=TODAY)
        for establishment in (first, second):
            make_document(supplier, "BTP_PAID_LEAVE", establishment=establishment,
                          issue_date=TODAY - timedelta(days=5),
                          validity_end=TODAY + timedelta(days=200))
        relation = make_relation(client, supplier)
        db.session.commit()

        whole = relation_compliance(relation, TODAY)
        assert [(p.doc_type, p.establishment.siret) for p in whole.problems] == [
            ("BTP_PAID_LEAVE", third.siret)]
        assert _sql([relation.id])[relation.id][:2] == (1, False)

        set_scope(relation, None, [first, second])
        db.session.commit()
        assert relation_compliance(relation, TODAY).compliant
        assert _sql([relation.id])[relation.id][:2] == (0, True)


def test_a_company_document_does_not_stand_in_for_an_establishment_requirement(
        app, client_company):
    with app.app_context():
        client = db.session.get(Company, client_company)
        set_requirements(client, "", [Rule("URSSAF_VIGILANCE", "establishment")])
        supplier = make_company("Chaîne", establishments=2)
        _vigilance(supplier, TODAY + timedelta(days=100))
        relation = make_relation(client, supplier)
        db.session.commit()
        assert len(relation_compliance(relation, TODAY).problems) == 2
        assert _sql([relation.id])[relation.id][0] == 2


def test_a_category_with_its_own_set_replaces_the_default_set(app, client_company):
    with app.app_context():
        client = db.session.get(Company, client_company)
        set_requirements(client, "", [Rule("KBIS", "company")])
        set_requirements(client, "Travaux", [Rule("KBIS", "company"),
                                             Rule("INSURANCE_DECENNALE", "company")])
        cleaner = make_company("Nettoyeurs", establishments=1)
        builder = make_company("Maçons", establishments=1)
        for supplier in (cleaner, builder):
            make_document(supplier, "KBIS", issue_date=TODAY)
        cleaning = make_relation(client, cleaner, category="Nettoyage")
        works = make_relation(client, builder, category="Travaux")
        db.session.commit()
        assert relation_compliance(cleaning, TODAY).compliant
        assert [p.doc_type for p in relation_compliance(works, TODAY).problems] == [
            "INSURANCE_DECENNALE"]
        sql = _sql([cleaning.id, works.id])
        assert sql[cleaning.id][:2] == (0, True)
        assert sql[works.id][:2] == (1, False)


def test_a_supplier_must_keep_the_union_of_what_its_active_clients_require(app):
    with app.app_context():
        supplier = make_company("Nettoyeurs", establishments=2)
        assert supplier_requirements(supplier.id).by_default
        assert list(supplier_requirements(supplier.id).types) == [
            "KBIS", "URSSAF_VIGILANCE", "LNTE"]

        initech = make_company("Initech", establishments=1)
        hooli = make_company("Hooli", establishments=1)
        globex = make_company("Globex", establishments=1)
        make_relation(initech, supplier)
        set_requirements(initech, "", [Rule("KBIS", "company")])
        make_relation(hooli, supplier)
        set_requirements(hooli, "", [Rule("KBIS", "company"),
                                     Rule("INSURANCE_RC_PRO", "company")])
        make_relation(globex, supplier, state="suspended")
        set_requirements(globex, "", [Rule("BTP_PAID_LEAVE", "establishment")])
        db.session.commit()

        required = supplier_requirements(supplier.id)
        assert not required.by_default
        assert list(required.types) == ["KBIS", "INSURANCE_RC_PRO"]
        assert required.clients_of("KBIS") == ["Hooli", "Initech"]
        assert required.clients_of("INSURANCE_RC_PRO") == ["Hooli"]
        # A suspended client no longer counts: no paid-leave certificate is asked.
        assert not required.is_required("BTP_PAID_LEAVE")


def test_the_batched_answer_for_one_supplier_matches_each_relations_own(app):
    from hiveo.relations.compliance import supplier_compliances
    from hiveo.relations.requirements import relation_rules

    with app.app_context():
        supplier = make_company("Bâtisseurs", establishments=3)
        first, second, _third = db.session.scalars(
            select(Establishment).where(Establishment.company_id == supplier.id)
            .order_by(Establishment.siret)).all()
        make_document(supplier, "KBIS", issue_date=TODAY)
        make_document(supplier, "BTP_PAID_LEAVE", establishment=first,
                      issue_date=TODAY - timedelta(days=5),
                      validity_end=TODAY + timedelta(days=200))
        legal = make_relation(make_company("Initech"), supplier)
        builders = make_company("Hooli")
        set_requirements(builders, "", [Rule("KBIS", "company"),
                                        Rule("BTP_PAID_LEAVE", "establishment")])
        everywhere = make_relation(builders, supplier)
        narrowed_client = make_company("Globex")
        set_requirements(narrowed_client, "", [Rule("BTP_PAID_LEAVE", "establishment")])
        narrowed = make_relation(narrowed_client, supplier, establishments=(first,))
        partly = make_relation(make_company("Umbrella"), supplier, state="invited",
                               establishments=(first, second))
        db.session.commit()
        relations = [legal, everywhere, narrowed, partly]
        batched = supplier_compliances(
            supplier.id, [(r.id, relation_rules(r)) for r in relations], TODAY)
        for relation in relations:
            one = relation_compliance(relation, TODAY)
            assert batched[relation.id] == one, relation
        assert batched[narrowed.id].compliant
        assert len(batched[everywhere.id].problems) == 2
        assert supplier_compliances(supplier.id, [], TODAY) == {}
