"""Whether a relation's requirements are met (DOMAIN.md 5), for one relation and in SQL.

A requirement at company level asks for the supplier's company document of
that type; at establishment level, a document of each open establishment the
relation covers (its own: the company's does not stand in for it). A required
slot is met when its state (dossier/queries.py, the same slots the supplier
sees) is "valide" or "expire bientôt". `relation_compliance()` answers for one
relation with the reasons; `unmet_count()` is the same rule as an SQL
expression for lists of thousands of relations; tests/integration/
test_compliance.py checks that both agree around every date boundary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from ..dossier.catalogue import CATALOGUE, Level
from ..dossier.queries import build_slots
from ..dossier.states import IN_FORCE, State, in_force_condition
from ..extensions import db
from ..models import Document, Establishment, Relation, RelationEstablishment, Requirement
from .requirements import Rule, relation_rules, relation_scope, relation_scopes


@dataclass(frozen=True)
class RequiredItem:
    """One required slot of a relation and its state."""

    doc_type: str
    establishment: Establishment | None
    state: State
    end: date | None

    @property
    def label(self) -> str:
        return CATALOGUE[self.doc_type].label

    @property
    def met(self) -> bool:
        return self.state in IN_FORCE


@dataclass(frozen=True)
class Compliance:
    items: list[RequiredItem]

    @property
    def compliant(self) -> bool:
        return all(item.met for item in self.items)

    @property
    def problems(self) -> list[RequiredItem]:
        """What is missing, expired, refused or awaiting review, in requirement order."""
        return [item for item in self.items if not item.met]

    @property
    def next_expiry(self) -> date | None:
        ends = [item.end for item in self.items if item.met and item.end is not None]
        return min(ends) if ends else None

    @property
    def label(self) -> str:
        return compliance_label(self.compliant)


def compliance_label(compliant: bool) -> str:
    return "conforme" if compliant else "non conforme"


def relation_compliance(relation: Relation, today: date,
                        rules: list[Rule] | None = None) -> Compliance:
    """Four queries at most: rules, scope, establishments, the supplier's live documents."""
    rules = relation_rules(relation) if rules is None else rules
    if not rules:
        return Compliance([])
    establishments: list[Establishment] = []
    if any(rule.level == Level.ESTABLISHMENT for rule in rules):
        scope = relation_scope(relation.id)
        query = select(Establishment).where(Establishment.company_id == relation.supplier_id,
                                            Establishment.closed_at.is_(None))
        if scope is not None:
            query = query.where(Establishment.id.in_(scope))
        establishments = list(db.session.scalars(query.order_by(Establishment.siret)))
    documents = list(db.session.scalars(
        select(Document).where(Document.company_id == relation.supplier_id,
                               Document.doc_type.in_({rule.doc_type for rule in rules}),
                               Document.archived_at.is_(None))))
    return _compliance(rules, establishments, _by_place(documents), today)


def supplier_compliances(supplier_id: int, relations: list[tuple[int, list[Rule]]],
                         today: date) -> dict[int, Compliance]:
    """Compliance of several relations of one supplier, in three queries at most.

    `relations`: (relation id, its rules) pairs, e.g. from client_rules() and
    rules_for(); the answer is relation_compliance()'s for each, keyed by id.
    The supplier's "Mes clients" page uses it: its statements do not grow
    with the number of clients.
    """
    if not relations:
        return {}
    codes = {rule.doc_type for _id, rules in relations for rule in rules}
    establishments: list[Establishment] = []
    scopes: dict[int, set[int]] = {}
    if any(rule.level == Level.ESTABLISHMENT for _id, rules in relations for rule in rules):
        scopes = relation_scopes([relation_id for relation_id, _rules in relations])
        establishments = list(db.session.scalars(
            select(Establishment).where(Establishment.company_id == supplier_id,
                                        Establishment.closed_at.is_(None))
            .order_by(Establishment.siret)))
    by_place = _by_place(db.session.scalars(
        select(Document).where(Document.company_id == supplier_id,
                               Document.doc_type.in_(codes),
                               Document.archived_at.is_(None)))) if codes else {}
    answers: dict[int, Compliance] = {}
    for relation_id, rules in relations:
        scope = scopes.get(relation_id)
        covered = [e for e in establishments if scope is None or e.id in scope]
        answers[relation_id] = _compliance(rules, covered, by_place, today)
    return answers


def _by_place(documents: Iterable[Document]) -> dict[int | None, list[Document]]:
    by_place: dict[int | None, list[Document]] = {}
    for document in documents:
        by_place.setdefault(document.establishment_id, []).append(document)
    return by_place


def _compliance(rules: list[Rule], establishments: list[Establishment],
                by_place: dict[int | None, list[Document]], today: date) -> Compliance:
    items: list[RequiredItem] = []
    for rule in rules:
        places: list[Establishment | None] = (
            [None] if rule.level == Level.COMPANY else list(establishments))
        for place in places:
            key = place.id if place is not None else None
            docs = [d for d in by_place.get(key, []) if d.doc_type == rule.doc_type]
            slot = build_slots([CATALOGUE[rule.doc_type]], place, docs, today)[0]
            end = min((d.effective_end for d in slot.current), default=None)
            items.append(RequiredItem(rule.doc_type, place, slot.state, end))
    return Compliance(items)


# ---- The same rule in SQL, for lists (parameters: sql_dates(today)) ----


def applicable_rules(relation: Any = Relation) -> ColumnElement[bool]:
    """Requirement rows that apply to `relation` (a correlated outer row).

    The relation's category has a set of its own, or else the default set ("").
    """
    own = aliased(Requirement)
    has_own = exists().where(own.client_id == relation.client_id,
                             own.category == relation.category, relation.category != ""
                             ).correlate_except(own)
    return and_(Requirement.client_id == relation.client_id,
                Requirement.category == case((has_own, relation.category), else_=""))


def _in_scope(relation) -> ColumnElement[bool]:
    narrowed = exists().where(RelationEstablishment.relation_id == relation.id
                              ).correlate_except(RelationEstablishment)
    chosen = exists().where(RelationEstablishment.relation_id == relation.id,
                            RelationEstablishment.establishment_id == Establishment.id
                            ).correlate_except(RelationEstablishment)
    return or_(~narrowed, chosen)


def unmet_count(relation=Relation) -> ColumnElement[int]:
    """How many required slots of `relation` are not in force, as a scalar subquery."""
    company_level = (
        select(func.count()).select_from(Requirement)
        .where(applicable_rules(relation), Requirement.level == Level.COMPANY.value,
               ~exists().where(Document.company_id == relation.supplier_id,
                               Document.establishment_id.is_(None),
                               Document.doc_type == Requirement.doc_type,
                               in_force_condition()).correlate_except(Document))
        .correlate(relation).scalar_subquery())
    establishment_level = (
        select(func.count()).select_from(Requirement)
        .join(Establishment, and_(Establishment.company_id == relation.supplier_id,
                                  Establishment.closed_at.is_(None), _in_scope(relation)))
        .where(applicable_rules(relation), Requirement.level == Level.ESTABLISHMENT.value,
               ~exists().where(Document.establishment_id == Establishment.id,
                               Document.doc_type == Requirement.doc_type,
                               in_force_condition()).correlate_except(Document))
        .correlate(relation).scalar_subquery())
    return company_level + establishment_level


def compliant_condition(relation=Relation) -> ColumnElement[bool]:
    return unmet_count(relation) == 0


def next_expiry(relation=Relation) -> ColumnElement[date]:
    """The earliest end of a required document in force, as a scalar subquery."""
    return (
        select(func.min(Document.effective_end))
        .where(Document.company_id == relation.supplier_id, in_force_condition(),
               exists().where(applicable_rules(relation),
                              Requirement.doc_type == Document.doc_type
                              ).correlate_except(Requirement),
               or_(Document.establishment_id.is_(None),
                   exists().where(Establishment.id == Document.establishment_id,
                                  Establishment.closed_at.is_(None), _in_scope(relation)
                                  ).correlate_except(Establishment)))
        .correlate(relation).scalar_subquery())


def never_deposited(relation=Relation) -> ColumnElement[bool]:
    """The supplier has no document at all on the portal."""
    return ~exists().where(Document.company_id == relation.supplier_id
                           ).correlate_except(Document)
