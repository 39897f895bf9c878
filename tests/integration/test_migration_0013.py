"""Migration 0013 gives relations their stored standing, filled with its own SQL for the
relations already there: it must agree with standing_select() on a world that has every
kind of slot. Its downgrade drops the two columns alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from hiveo.demo.factories import make_company, make_document, make_relation, make_user
from hiveo.dossier.services import refuse_document
from hiveo.extensions import db
from hiveo.models import Establishment, Relation
from hiveo.organisations.services import close_establishment
from hiveo.relations.figures import refresh_suppliers, stale_standings
from hiveo.relations.requirements import Rule, set_requirements
from tests.conftest import TODAY, migration_database


def _world() -> None:
    """Company and establishment slots, a category with its own set, a narrowed relation,
    a closed establishment, two insurers, a refusal, a review pending, a provider's
    expired document, and a supplier with nothing."""
    olivia = make_user("olivia@example.com", profile="fast", operator=True)
    client = make_company("Initech", establishments=1)
    set_requirements(client, "", [Rule("KBIS", "company"), Rule("INSURANCE_RC_PRO", "company"),
                                  Rule("BTP_PAID_LEAVE", "establishment")])
    set_requirements(client, "Travaux", [Rule("URSSAF_VIGILANCE", "company")])
    builders = make_company("Bâtisseurs", establishments=3)
    first, second, third = _establishments(builders)
    make_document(builders, "KBIS", issue_date=TODAY - timedelta(days=5))
    for end in (TODAY + timedelta(days=20), TODAY + timedelta(days=200)):
        make_document(builders, "INSURANCE_RC_PRO", issue_date=TODAY - timedelta(days=100),
                      validity_end=end)
    make_document(builders, "BTP_PAID_LEAVE", establishment=first, issue_date=TODAY,
                  validity_end=TODAY + timedelta(days=50))
    refused = make_document(builders, "BTP_PAID_LEAVE", establishment=second,
                            issue_date=TODAY, validity_end=TODAY + timedelta(days=50),
                            validated=False)
    refuse_document(refused.id, olivia, "Illisible")
    close_establishment(builders, third.siret, datetime(2026, 11, 1, tzinfo=UTC))
    make_relation(client, builders)
    # Narrowed to the one establishment that holds its certificate.
    chain = make_company("Chaîne", establishments=2)
    make_document(chain, "KBIS", issue_date=TODAY)
    make_document(chain, "INSURANCE_RC_PRO", issue_date=TODAY,
                  validity_end=TODAY + timedelta(days=300))
    make_document(chain, "BTP_PAID_LEAVE", establishment=_establishments(chain)[0],
                  issue_date=TODAY, validity_end=TODAY + timedelta(days=70))
    make_relation(client, chain, establishments=(_establishments(chain)[0],))
    works = make_company("Maçons", establishments=1)
    make_document(works, "URSSAF_VIGILANCE", issue_date=TODAY - timedelta(days=30),
                  validity_end=TODAY + timedelta(days=30))
    make_relation(client, works, category="Travaux")
    other = make_company("Globex", establishments=1)
    make_relation(other, builders)
    make_relation(other, make_company("Vide", establishments=1), state="invited")
    pending = make_company("En revue", establishments=1)
    make_document(pending, "KBIS", issue_date=TODAY)
    make_document(pending, "URSSAF_VIGILANCE", issue_date=TODAY,
                  validity_end=TODAY + timedelta(days=60), validated=False)
    make_relation(other, pending)
    # As a provider's record would say it (the test writes it, then refreshes the standing).
    make_document(works, "URSSAF_VIGILANCE", issue_date=TODAY - timedelta(days=20),
                  validity_end=TODAY + timedelta(days=40)).provider_state = "expired"
    db.session.flush()
    refresh_suppliers([works.id])
    db.session.commit()


def _establishments(company) -> list[Establishment]:
    return list(db.session.scalars(sa.select(Establishment).where(
        Establishment.company_id == company.id).order_by(Establishment.siret)))


def test_0013_fills_the_standing_as_the_code_computes_it_and_its_downgrade_drops_it(tmp_path):
    with migration_database(tmp_path) as directory:
        upgrade(directory=directory)
        _world()
        before = db.session.execute(sa.select(Relation.id, Relation.unheld_slots,
                                              Relation.held_until).order_by(Relation.id)).all()
        db.session.remove()
        downgrade(directory=directory, revision="0012_relation_code_key")
        with db.engine.begin() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("relations")}
            assert not {"unheld_slots", "held_until"} & columns
            assert "code_key" in columns
        upgrade(directory=directory, revision="0013_relation_standing")
        after = db.session.execute(sa.select(Relation.id, Relation.unheld_slots,
                                             Relation.held_until).order_by(Relation.id)).all()
        assert after == before
        assert stale_standings() == []
        # The world is not trivial: slots unheld, held until a day, and none at all.
        assert {unheld > 0 for _id, unheld, _until in after} == {True, False}
        assert None in {until for *_rest, until in after}
        assert len({until for *_rest, until in after}) > 2
        db.session.remove()
