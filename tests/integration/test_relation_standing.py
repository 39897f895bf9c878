"""Each relation's stored standing (relations/figures.py) follows every door that changes
what its compliance reads, and says on any day what relation_compliance() says.

After each step the stored standing must be what standing_select() computes afresh
(no stale row), and must have moved where the step changes the answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from hiveo.demo.companies import make_siret
from hiveo.demo.factories import make_company, make_document, make_relation, make_user
from hiveo.dossier.services import refuse_document, validate_document
from hiveo.extensions import db
from hiveo.models import Document, Establishment, Relation
from hiveo.organisations.services import (
    add_establishment,
    close_establishment,
    reopen_establishment,
)
from hiveo.relations.compliance import relation_compliance
from hiveo.relations.figures import compliant_on, refresh_standing, stale_standings
from hiveo.relations.requirements import Rule, set_requirements
from hiveo.relations.services import References, set_scope, update_references
from tests.conftest import TODAY


def _standing(relation: Relation) -> tuple[int, date | None]:
    db.session.flush()
    assert stale_standings() == []
    return tuple(db.session.execute(select(Relation.unheld_slots, Relation.held_until)
                                    .where(Relation.id == relation.id)).one())


def _compliant_on(relation: Relation, day: date) -> bool:
    return bool(db.session.scalar(select(compliant_on(day)).where(Relation.id == relation.id)))


def test_every_door_keeps_the_standing_of_the_relations_it_touches(app):
    with app.app_context():
        client = make_company("Initech", establishments=1)
        supplier = make_company("Bâtisseurs", establishments=2)
        olivia = make_user("olivia@example.com", profile="fast", operator=True)
        relation = make_relation(client, supplier)
        # The default set: Kbis, URSSAF, LNTE, nothing deposited.
        assert _standing(relation) == (3, None)

        kbis = make_document(supplier, "KBIS", issue_date=TODAY - timedelta(days=10)).effective_end
        make_document(supplier, "LNTE", issue_date=TODAY - timedelta(days=10))
        assert _standing(relation) == (1, kbis)     # the Kbis ends first

        pending = make_document(supplier, "URSSAF_VIGILANCE", issue_date=TODAY,
                                validity_end=TODAY + timedelta(days=40), validated=False)
        assert _standing(relation)[0] == 1            # awaiting review holds nothing
        refuse_document(pending.id, olivia, "Illisible")
        assert _standing(relation)[0] == 1
        again = make_document(supplier, "URSSAF_VIGILANCE", issue_date=TODAY,
                              validity_end=TODAY + timedelta(days=40), validated=False)
        validate_document(again.id, olivia)
        assert _standing(relation) == (0, TODAY + timedelta(days=40))

        # The client's requirements: an establishment-level type asks each open one.
        set_requirements(client, "", [Rule("KBIS", "company"),
                                      Rule("BTP_PAID_LEAVE", "establishment")])
        assert _standing(relation) == (2, kbis)
        first, second = db.session.scalars(
            select(Establishment).where(Establishment.company_id == supplier.id)
            .order_by(Establishment.siret)).all()
        make_document(supplier, "BTP_PAID_LEAVE", establishment=first, issue_date=TODAY,
                      validity_end=TODAY + timedelta(days=20))
        assert _standing(relation) == (1, TODAY + timedelta(days=20))

        # The supplier's establishments: closed, reopened, added.
        close_establishment(supplier, second.siret, datetime(2026, 11, 1, tzinfo=UTC))
        assert _standing(relation) == (0, TODAY + timedelta(days=20))
        reopen_establishment(supplier, second.siret)
        assert _standing(relation) == (1, TODAY + timedelta(days=20))
        add_establishment(make_siret(supplier.siren, 7), "Bâtisseurs Nantes", company=supplier)
        assert _standing(relation) == (2, TODAY + timedelta(days=20))

        # The relation's own scope and category.
        set_scope(relation, None, [first])
        assert _standing(relation) == (0, TODAY + timedelta(days=20))
        set_requirements(client, "Travaux", [Rule("INSURANCE_DECENNALE", "company")])
        assert _standing(relation) == (0, TODAY + timedelta(days=20))
        update_references(relation, None, References(category="Travaux"))
        assert _standing(relation) == (1, None)
        set_requirements(client, "Travaux", [])
        assert _standing(relation) == (0, TODAY + timedelta(days=20))
        db.session.commit()


def test_the_stored_standing_tells_on_each_day_what_the_compliance_of_the_relation_says(app):
    with app.app_context():
        client = make_company("Initech", establishments=1)
        set_requirements(client, "", [Rule("KBIS", "company"),
                                      Rule("INSURANCE_RC_PRO", "company")])
        relations = []
        for name, ends in {"two insurers": (TODAY + timedelta(days=20),
                                            TODAY + timedelta(days=200)),
                           "one insurer": (TODAY - timedelta(days=1),),
                           "none": ()}.items():
            supplier = make_company(f"Assuré {name}", establishments=1)
            make_document(supplier, "KBIS", issue_date=TODAY - timedelta(days=10))
            for end in ends:
                make_document(supplier, "INSURANCE_RC_PRO",
                              issue_date=TODAY - timedelta(days=300), validity_end=end)
            relations.append(make_relation(client, supplier))
        db.session.commit()
        days = [TODAY + timedelta(days=shift) for shift in (-2, -1, 0, 1, 19, 20, 21, 80, 81)]
        verdicts = set()
        for relation in relations:
            for day in days:
                expected = relation_compliance(relation, day).compliant
                assert _compliant_on(relation, day) is expected, (relation.id, day)
                verdicts.add(expected)
        assert verdicts == {True, False}


def test_a_write_around_the_doors_leaves_a_stale_standing_that_a_refresh_repairs(app):
    with app.app_context():
        client = make_company("Initech", establishments=1)
        supplier = make_company("Nettoyeurs", establishments=1)
        relation = make_relation(client, supplier)
        db.session.commit()
        # What a hand-made script would do: a row no door wrote.
        db.session.add(Document(
            company_id=supplier.id, doc_type="KBIS", source="manual",
            issue_date=TODAY, validity_start=TODAY, effective_end=TODAY + timedelta(days=90),
            sha256="0" * 64, size=1, review_state="validated", is_current=True))
        db.session.flush()
        assert [row[0] for row in stale_standings()] == [relation.id]
        assert refresh_standing(supplier_ids=[supplier.id]) == 1
        assert stale_standings() == []
        assert _standing(relation) == (2, TODAY + timedelta(days=90))
        db.session.commit()


def test_bulk_rows_get_their_standing_as_they_are_written(app):
    from hiveo.demo.factories import add_suppliers_bulk

    with app.app_context():
        client = make_company("Initech", establishments=1)
        ids = add_suppliers_bulk(client, 4, today=TODAY,
                                 dossiers=("complete", "expiring", "missing", "none"))
        db.session.commit()
        assert stale_standings() == []
        standings = dict(db.session.execute(
            select(Relation.id, Relation.unheld_slots).where(Relation.id.in_(ids))).all())
        assert [standings[i] for i in ids] == [0, 0, 1, 3]


def test_the_standing_command_finds_a_stale_standing_and_fix_repairs_it(app):
    with app.app_context():
        supplier = make_company("Nettoyeurs", establishments=1)
        relation = make_relation(make_company("Initech", establishments=1), supplier)
        db.session.commit()
        relation_id, supplier_id = relation.id, supplier.id
    runner = app.test_cli_runner()
    assert runner.invoke(args=["suppliers", "standing"]).output == (
        "Toutes les relations sont à jour.\n")
    with app.app_context():
        # A database edited by hand: the supplier's Kbis set straight into the table.
        db.session.add(Document(
            company_id=supplier_id, doc_type="KBIS", source="manual",
            issue_date=TODAY, validity_start=TODAY, effective_end=TODAY + timedelta(days=90),
            sha256="0" * 64, size=1, review_state="validated", is_current=True))
        db.session.commit()
    found = runner.invoke(args=["suppliers", "standing"])
    assert found.exit_code == 1
    assert f"1 relation à recalculer (identifiants {relation_id})" in found.output
    fixed = runner.invoke(args=["suppliers", "standing", "--fix"])
    assert (fixed.exit_code, fixed.output) == (0, "1 relation recalculée.\n")
    assert runner.invoke(args=["suppliers", "standing"]).exit_code == 0
    with app.app_context():
        assert db.session.get(Relation, relation_id).unheld_slots == 2


def test_the_counts_and_the_non_compliant_filter_follow_the_day_with_nothing_written(app):
    from hiveo.relations.queries import SupplierFilters, supplier_counts, suppliers_page

    with app.app_context():
        client = make_company("Initech", establishments=1)
        set_requirements(client, "", [Rule("URSSAF_VIGILANCE", "company")])
        ends_today = make_company("Fin Aujourd'hui", establishments=1)
        make_document(ends_today, "URSSAF_VIGILANCE", issue_date=TODAY - timedelta(days=100),
                      validity_end=TODAY)
        later = make_company("Fin Plus Tard", establishments=1)
        make_document(later, "URSSAF_VIGILANCE", issue_date=TODAY - timedelta(days=10),
                      validity_end=TODAY + timedelta(days=100))
        for supplier in (ends_today, later):
            make_relation(client, supplier)
        db.session.commit()
        non_compliant = SupplierFilters(status="non-conformes")
        for day, compliant, names in ((TODAY, 2, []),
                                      (TODAY + timedelta(days=1), 1, ["Fin Aujourd'hui"]),
                                      (TODAY + timedelta(days=101), 0,
                                       ["Fin Aujourd'hui", "Fin Plus Tard"])):
            counts = supplier_counts(client, day)
            assert (counts.compliant, counts.non_compliant) == (compliant, 2 - compliant), day
            assert [row.name for row in suppliers_page(client, day, non_compliant).items] == (
                names), day


def test_every_listing_path_shows_the_figures_relation_compliance_gives_on_each_day(app):
    """The page found first (compliant rows from their standing, the others computed) and
    the listings that compute every figure (sorted by expiry, "expire sous 30 jours")."""
    from hiveo.relations.queries import SupplierFilters, SupplierSort, suppliers_page

    with app.app_context():
        client = make_company("Initech", establishments=1)
        set_requirements(client, "", [Rule("KBIS", "company"),
                                      Rule("URSSAF_VIGILANCE", "company")])
        relations = []
        for name, urssaf_end in (("Complet", TODAY + timedelta(days=100)),
                                 ("Bientôt", TODAY + timedelta(days=10)),
                                 ("Expiré", TODAY - timedelta(days=1)),
                                 ("Manquant", None)):
            supplier = make_company(name, establishments=1)
            make_document(supplier, "KBIS", issue_date=TODAY - timedelta(days=5))
            if urssaf_end:
                make_document(supplier, "URSSAF_VIGILANCE", issue_date=TODAY - timedelta(days=30),
                              validity_end=urssaf_end)
            relations.append(make_relation(client, supplier))
        db.session.commit()
        seen = set()
        for day in (TODAY, TODAY + timedelta(days=11), TODAY + timedelta(days=101)):
            expected = {}
            for relation in relations:
                compliance = relation_compliance(relation, day)
                expected[relation.id] = (len(compliance.problems), compliance.next_expiry)
                seen.add(len(compliance.problems))
            for filters, sort in ((SupplierFilters(), SupplierSort()),
                                  (SupplierFilters(), SupplierSort("echeance")),
                                  (SupplierFilters(status="expire-30-jours"), SupplierSort())):
                shown = {row.relation_id: (row.unmet, row.next_expiry)
                         for row in suppliers_page(client, day, filters, sort).items}
                wanted = expected if not filters.status else {
                    key: value for key, value in expected.items()
                    if value[1] is not None and value[1] <= day + timedelta(days=30)}
                assert shown == wanted, (day, filters, sort)
        assert seen == {0, 1, 2}
