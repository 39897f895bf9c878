"""Whether a relation's requirements are met (DOMAIN.md 5), for one relation and in SQL.

A requirement at company level asks for the supplier's company document of
that type; at establishment level, a document of each open establishment the
relation covers (its own: the company's does not stand in for it). A required
slot is met when its state (dossier/queries.py, the same slots the supplier
sees) is "valide" or "expire bientôt". `relation_compliance()` answers for one
relation with the reasons; `compliance_figures()` is the same rule in SQL
for lists of thousands of relations; tests/integration/test_compliance.py
checks that both agree around every date boundary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, Subquery, and_, case, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ..dossier.catalogue import CATALOGUE, Level
from ..dossier.queries import build_slots
from ..dossier.states import IN_FORCE, TODAY, State
from ..extensions import db
from ..models import Document, Establishment, Relation
from .figures import required_slots
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


# ---- The same rule in SQL, set-based, for lists (parameters: sql_dates(today)) ----


def compliance_figures(*relation_conditions: ColumnElement[bool]) -> Subquery:
    """compliance_select() as a subquery named "compliance"."""
    return compliance_select(*relation_conditions).subquery("compliance")


def compliance_select(*relation_conditions: ColumnElement[bool]) -> Select[Any]:
    """Per relation matching `relation_conditions`: `unmet`, the number of its required
    slots not in force, and `next_expiry`, the earliest end of a required document in force.

    Set-based, with no lookup run once per relation or per slot (the slots of
    figures.required_slots()): a client's 5,000 suppliers cost one pass over their
    documents, rules and establishments. Join it on `relation_id`. Like
    relation_compliance(), a multi-occurrence type is held when every one of its
    current documents is in force.
    """
    relation, slots = required_slots(relation_conditions)
    # A slot is in force on the day while what holds it does (its end not passed).
    met = slots.c.held_until >= TODAY
    unmet = and_(slots.c.rule_id.is_not(None), or_(slots.c.held_until.is_(None), ~met))
    return (
        select(relation.c.relation_id,
               func.coalesce(func.sum(case((unmet, 1), else_=0)), 0).label("unmet"),
               func.min(case((met, slots.c.held_until), else_=None)).label("next_expiry"))
        .select_from(relation)
        .outerjoin(slots, slots.c.relation_id == relation.c.relation_id)
        .group_by(relation.c.relation_id))


def never_deposited(relation: Any = Relation) -> ColumnElement[bool]:
    """The supplier has no document at all on the portal."""
    return ~exists().where(Document.company_id == relation.supplier_id
                           ).correlate_except(Document)
