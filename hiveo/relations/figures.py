"""Each relation's standing, stored: what "Mes fournisseurs" counts and filters on.

A client's header ("132 fournisseurs · 118 conformes · …") and its "non
conformes" filter need the compliance of every relation. Computing it for
5,000 suppliers on each page view cost one pass over all their documents
(about 60 ms on SQLite, ten times the rest of the page). So each relation
keeps `unheld_slots` and `held_until`, standing_select()'s answer,
which depends on no day: on day D the relation is compliant when nothing is
unheld and `held_until` is NULL or not before D (compliant_on()). The day
moves on by itself; only a change to what the answer reads changes it.

refresh_standing() is the one way these columns are written. Every door that
changes what a relation's compliance reads calls it, in its own transaction,
for the relations concerned:

- dossier/services.py and dossier/provider.py, for the documents of a supplier;
- organisations/services.py, for the establishments of a supplier;
- relations/requirements.py, for a client's requirements;
- relations/services.py, for a relation's category and establishments, and a
  new relation; demo/bulk.py and demo/factories.py, for rows written in bulk.

tests/conftest.py checks, after every test that runs the app, that every
relation's stored standing is what standing_select() computes afresh, so a
door that forgets to call refresh_standing() fails the tests that use it.

The required slots of relations in SQL (required_slots()) live here too, and
compliance.compliance_select() reads them for a given day: this module imports
none of the rules' modules, so that every door may call refresh_standing().
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    Subquery,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from ..dossier.catalogue import Level
from ..dossier.states import holds_until_end_condition
from ..extensions import db
from ..models import Document, Establishment, Relation, RelationEstablishment, Requirement


def standing_select(*relation_conditions: ColumnElement[bool]) -> Select[Any]:
    """What compliance_select() answers for any day, without the day: per relation, `unheld`,
    how many required slots nothing holds, and `held_until`, the last day on which every
    other one is still held (the earliest end of what holds them).

    On day D a relation is compliant when `unheld` is 0 and `held_until` is NULL or
    not before D (compliant_on()). Stored on each relation by refresh_standing().
    """
    relation, slots = required_slots(relation_conditions)
    unheld = and_(slots.c.rule_id.is_not(None), slots.c.held_until.is_(None))
    return (
        select(relation.c.relation_id,
               func.coalesce(func.sum(case((unheld, 1), else_=0)), 0).label("unheld"),
               func.min(slots.c.held_until).label("held_until"))
        .select_from(relation)
        .outerjoin(slots, slots.c.relation_id == relation.c.relation_id)
        .group_by(relation.c.relation_id))


def required_slots(relation_conditions: tuple[ColumnElement[bool], ...]) -> tuple[Any, Subquery]:
    """The relations matching `relation_conditions` (a CTE), and every required slot of
    theirs with `held_until`: the last day what fills it is in force (NULL: nothing holds
    it, or something that never will, such as a document awaiting review).

    What the suppliers hold is gathered once per (place, type), then every required slot
    of every relation is joined to it. A slot is held when every one of its current
    documents holds until its end (holds_until_end_condition()), until the earliest end.
    """
    own_sets = (select(Requirement.client_id, Requirement.category)
                .where(Requirement.category != "").distinct().subquery("own_sets"))
    narrowed = exists().where(RelationEstablishment.relation_id == Relation.id)
    relation = (
        select(Relation.id.label("relation_id"), Relation.client_id, Relation.supplier_id,
               # The relation's category has a set of its own, or else the default set ("").
               case((own_sets.c.category.is_not(None), Relation.category),
                    else_="").label("rule_set"),
               narrowed.label("narrowed"))
        .outerjoin(own_sets, and_(own_sets.c.client_id == Relation.client_id,
                                  own_sets.c.category == Relation.category))
        .where(*relation_conditions)
        .cte("relation"))
    rules = and_(Requirement.client_id == relation.c.client_id,
                 Requirement.category == relation.c.rule_set)
    suppliers = select(relation.c.supplier_id)

    def held(place: Any, name: str) -> Subquery:
        """Per (place, type) of these suppliers: `held_until`, the earliest end of its
        current documents when every one holds until its end, else NULL."""
        lapsed = func.sum(case((holds_until_end_condition(), 0), else_=1))
        return (select(place.label("place_id"), Document.doc_type,
                       case((lapsed == 0, func.min(Document.effective_end)),
                            else_=None).label("held_until"))
                .where(Document.company_id.in_(suppliers), Document.is_current.is_(True),
                       Document.archived_at.is_(None),
                       Document.establishment_id.is_(None) if place is Document.company_id
                       else Document.establishment_id.is_not(None))
                .group_by(place, Document.doc_type)
                .subquery(name))

    def covered(establishment_id: Any) -> ColumnElement[bool]:
        return or_(~relation.c.narrowed, exists().where(
            RelationEstablishment.relation_id == relation.c.relation_id,
            RelationEstablishment.establishment_id == establishment_id))

    def level_slots(level: Level, place_held: Subquery) -> Select[Any]:
        """The relations' rules of `level`, each with what holds it (joined by the caller)."""
        return (select(relation.c.relation_id, Requirement.id.label("rule_id"),
                       place_held.c.held_until)
                .select_from(relation)
                .join(Requirement, and_(rules, Requirement.level == level.value)))

    company_held = held(Document.company_id, "company_held")
    company_slots = level_slots(Level.COMPANY, company_held).outerjoin(
        company_held, and_(company_held.c.place_id == relation.c.supplier_id,
                           company_held.c.doc_type == Requirement.doc_type))
    establishment_held = held(Document.establishment_id, "establishment_held")
    establishment_slots = (
        level_slots(Level.ESTABLISHMENT, establishment_held)
        .join(Establishment, and_(Establishment.company_id == relation.c.supplier_id,
                                  Establishment.closed_at.is_(None)))
        .outerjoin(establishment_held,
                   and_(establishment_held.c.place_id == Establishment.id,
                        establishment_held.c.doc_type == Requirement.doc_type))
        .where(covered(Establishment.id)))
    return relation, union_all(company_slots, establishment_slots).subquery("slots")


def compliant_on(day: Any, relation: Any = Relation) -> ColumnElement[bool]:
    """The stored standing's answer: the relation's requirements are all met on `day`
    (a date, or a bind parameter such as dossier.states.TODAY)."""
    return and_(relation.unheld_slots == 0,
                or_(relation.held_until.is_(None), relation.held_until >= day))


def compliant_parts(day: Any) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """compliant_on(day) as two disjoint conditions, each a range of an index that ends
    with (unheld_slots, held_until): nothing lapses, or nothing lapses before `day`."""
    settled = Relation.unheld_slots == 0
    return (and_(settled, Relation.held_until.is_(None)),
            and_(settled, Relation.held_until >= day))


# Which relations a refresh reads: the statements are built once per kind (the slot SQL
# is large: building it cost more than running it for one relation), their ids bound.
_SCOPES: dict[str, Any] = {
    "relation": lambda: Relation.id == bindparam("scope_id", type_=Integer),
    "client": lambda: Relation.client_id == bindparam("scope_id", type_=Integer),
    "suppliers": lambda: Relation.supplier_id.in_(bindparam("scope_ids", expanding=True)),
    "all": lambda: None,
}


@lru_cache(maxsize=len(_SCOPES))
def _statements(scope: str) -> tuple[Any, Any]:
    """The lock of the relations of `scope` (PostgreSQL) and the query of their stale rows."""
    condition = _SCOPES[scope]()
    conditions = () if condition is None else (condition,)
    fresh = standing_select(*conditions).subquery("fresh")
    stale = (select(fresh.c.relation_id, fresh.c.unheld, fresh.c.held_until)
             .join(Relation, Relation.id == fresh.c.relation_id)
             .where(or_(Relation.unheld_slots != fresh.c.unheld,
                        Relation.held_until.is_distinct_from(fresh.c.held_until))))
    lock = select(Relation.id).where(*conditions).order_by(Relation.id).with_for_update()
    return lock, stale


def _scope(relation_id: int | None, client_id: int | None,
           supplier_ids: list[int] | None) -> tuple[str, dict[str, Any]]:
    if relation_id is not None:
        return "relation", {"scope_id": relation_id}
    if client_id is not None:
        return "client", {"scope_id": client_id}
    if supplier_ids is not None:
        return "suppliers", {"scope_ids": supplier_ids}
    return "all", {}


def stale_standings(*, relation_id: int | None = None, client_id: int | None = None,
                    supplier_ids: list[int] | None = None
                    ) -> list[tuple[int, int, date | None]]:
    """(relation id, unheld, held until) of the relations whose stored standing differs from
    what standing_select() computes now: one relation, a client's, some suppliers', or
    (no argument) every relation."""
    return _stale(*_scope(relation_id, client_id, supplier_ids))


def _stale(scope: str, params: dict[str, Any]) -> list[tuple[int, int, date | None]]:
    return [(row.relation_id, int(row.unheld), row.held_until)
            for row in db.session.execute(_statements(scope)[1], params)]


_TABLE = Relation.metadata.tables[Relation.__tablename__]
# Core rows (one executemany): the ORM's objects in the session are not touched, and
# nothing else of the relation (its changed_at above all) moves.
_WRITE = (update(_TABLE)
          .where(_TABLE.c.id == bindparam("relation_id", type_=Integer))
          .values(unheld_slots=bindparam("unheld", type_=Integer),
                  held_until=bindparam("until", type_=Date)))


def refresh_standing(*, relation_id: int | None = None, client_id: int | None = None,
                     supplier_ids: list[int] | None = None) -> int:
    """Recompute the standing of one relation, of a client's, of some suppliers' or (no
    argument) of every relation, and store what changed; returns how many did.

    On PostgreSQL the relations' rows are locked first (in id order, as every
    caller does), and the standing is read by a later statement, so it sees
    what a concurrent transaction that held them committed: two transactions
    changing what the same relation reads (a client's requirements, a
    supplier's document) write its standing one after the other, the second
    from both changes. SQLite takes its write lock at BEGIN (extensions.py).
    """
    db.session.flush()  # what the caller changed, for the statements below to read
    scope, params = _scope(relation_id, client_id, supplier_ids)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_statements(scope)[0], params)
    changed = _stale(scope, params)
    if changed:
        db.session.execute(_WRITE, [{"relation_id": changed_id, "unheld": unheld,
                                     "until": held_until}
                                    for changed_id, unheld, held_until in changed])
    return len(changed)


def refresh_suppliers(supplier_ids: Any) -> int:
    """refresh_standing() for every relation of these supplier companies (by 900: an older
    SQLite takes 999 parameters at most)."""
    ids = sorted(set(supplier_ids))
    return sum(refresh_standing(supplier_ids=ids[start:start + 900])
               for start in range(0, len(ids), 900))
