"""What a client requires of its suppliers, and what a supplier must therefore keep."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select

from ..dossier.catalogue import CATALOGUE, Level
from ..extensions import db
from ..models import Company, Relation, RelationEstablishment, RelationState, Requirement
from .figures import refresh_standing

# The legal dossier of Code du travail D8222-5: what a client requires by default.
DEFAULT_TYPES = ("KBIS", "URSSAF_VIGILANCE", "LNTE")


class RequirementError(ValueError):
    """A requirement set the portal refuses, with the reason in French."""


@dataclass(frozen=True)
class Rule:
    doc_type: str
    level: str

    @property
    def label(self) -> str:
        return CATALOGUE[self.doc_type].label


def default_rules() -> list[Rule]:
    return [Rule(code, CATALOGUE[code].level.value) for code in DEFAULT_TYPES]


def check_rules(rules: Iterable[Rule]) -> list[Rule]:
    """The rules in catalogue order, or RequirementError when one is impossible."""
    by_type: dict[str, Rule] = {}
    for rule in rules:
        spec = CATALOGUE.get(rule.doc_type)
        if spec is None:
            raise RequirementError(f"Type de document inconnu\u00a0: {rule.doc_type}.")
        if rule.level not in (Level.COMPANY, Level.ESTABLISHMENT):
            raise RequirementError(f"Niveau inconnu pour «\u00a0{spec.label}\u00a0».")
        if spec.level is Level.ESTABLISHMENT and rule.level != Level.ESTABLISHMENT:
            raise RequirementError(
                f"«\u00a0{spec.label}\u00a0» se dépose par établissement\u00a0: "
                "il ne peut être exigé qu'au niveau de l'établissement.")
        by_type[rule.doc_type] = rule
    order = list(CATALOGUE)
    return sorted(by_type.values(), key=lambda r: order.index(r.doc_type))


def ensure_default_requirements(client: Company) -> None:
    """Give a new client the legal dossier as its default set, once."""
    has_any = db.session.scalar(
        select(Requirement.id).where(Requirement.client_id == client.id).limit(1))
    if has_any is None:
        for rule in default_rules():
            db.session.add(Requirement(client_id=client.id, category="", doc_type=rule.doc_type,
                                       level=rule.level))
        refresh_standing(client_id=client.id)  # any relation may follow this set


def set_requirements(client: Company, category: str, rules: Iterable[Rule]) -> list[Rule]:
    """Replace the client's set for `category` ("" is the default set).

    An empty set for a category removes it (its relations follow the default
    set again); the default set may not be empty: a client always requires
    something.
    """
    checked = check_rules(rules)
    category = category.strip()
    if not checked and not category:
        raise RequirementError("Exigez au moins un document par défaut.")
    db.session.execute(delete(Requirement).where(Requirement.client_id == client.id,
                                                 Requirement.category == category))
    for rule in checked:
        db.session.add(Requirement(client_id=client.id, category=category,
                                   doc_type=rule.doc_type, level=rule.level))
    refresh_standing(client_id=client.id)  # any relation may follow this set
    return checked


def client_rules(client_id: int) -> dict[str, list[Rule]]:
    """Every set of the client, by category ("" first), in one query."""
    sets: dict[str, list[Rule]] = {}
    order = list(CATALOGUE)
    rows = db.session.execute(
        select(Requirement.category, Requirement.doc_type, Requirement.level)
        .where(Requirement.client_id == client_id)
        .order_by(Requirement.category)).all()
    for row in rows:
        sets.setdefault(row.category, []).append(Rule(row.doc_type, row.level))
    for rules in sets.values():
        rules.sort(key=lambda r: order.index(r.doc_type) if r.doc_type in order else len(order))
    return dict(sorted(sets.items(), key=lambda item: (item[0] != "", item[0])))


def rules_for(sets: dict[str, list[Rule]], category: str) -> list[Rule]:
    """The set that applies to a relation of `category`: its own, else the default."""
    if category and category in sets:
        return sets[category]
    return sets.get("", [])


def relation_rules(relation: Relation) -> list[Rule]:
    return rules_for(client_rules(relation.client_id), relation.category)


@dataclass(frozen=True)
class Demand:
    """One active client's rule for a type: its level, and the establishments its
    relation covers (None: all of them)."""

    client: str
    level: str
    establishment_ids: set[int] | None


@dataclass
class RequiredType:
    """A document type some active client requires of a supplier.

    `level` and `establishment_ids` merge every client's rule (establishment if
    any client asks it there; None: every establishment, or the company level
    only); `demands` keeps each client's own rule, to say where each one
    requires it (company_clients(), establishment_clients()).
    """

    doc_type: str
    level: str
    clients: list[str] = field(default_factory=list)
    establishment_ids: set[int] | None = None
    demands: list[Demand] = field(default_factory=list)

    @property
    def label(self) -> str:
        return CATALOGUE[self.doc_type].label

    def company_clients(self) -> list[str]:
        """The clients that require the company's own document of this type."""
        return _names(d for d in self.demands if d.level == Level.COMPANY)

    def establishment_clients(self, establishment_id: int) -> list[str]:
        """The clients that require this establishment's own document of this type."""
        return _names(d for d in self.demands if d.level == Level.ESTABLISHMENT and (
            d.establishment_ids is None or establishment_id in d.establishment_ids))


def _names(demands: Iterable[Demand]) -> list[str]:
    names: list[str] = []
    for demand in demands:
        if demand.client not in names:
            names.append(demand.client)
    return names


@dataclass
class SupplierRequirements:
    """The union of what a supplier's active clients require (DOMAIN.md 5).

    `by_default`: the supplier has no active client; the legal dossier is asked,
    as every client asks it unless it says otherwise.
    """

    types: dict[str, RequiredType]
    by_default: bool

    def is_required(self, doc_type: str) -> bool:
        return doc_type in self.types

    def clients_of(self, doc_type: str) -> list[str]:
        required = self.types.get(doc_type)
        return required.clients if required else []


def supplier_requirements(supplier_id: int) -> SupplierRequirements:
    """Three queries: the active relations, their clients' rules, their scopes."""
    return suppliers_requirements([supplier_id])[supplier_id]


def suppliers_requirements(supplier_ids: Iterable[int]) -> dict[int, SupplierRequirements]:
    """`supplier_requirements()` of many suppliers, in the same three queries.

    For lists and batch jobs (the reminder run): the statements do not grow
    with the number of suppliers.
    """
    ids = sorted(set(supplier_ids))
    relations = db.session.execute(
        select(Relation.id, Relation.supplier_id, Relation.client_id, Relation.category,
               Company.name)
        .join(Company, Company.id == Relation.client_id)
        .where(Relation.supplier_id.in_(ids),
               Relation.state == RelationState.ACTIVE.value)
        .order_by(Company.name_key, Relation.id)).all() if ids else []
    rule_rows = db.session.execute(
        select(Requirement.client_id, Requirement.category, Requirement.doc_type,
               Requirement.level)
        .where(Requirement.client_id.in_({row.client_id for row in relations}))
    ).all() if relations else []
    sets: dict[int, dict[str, list[Rule]]] = {}
    for row in rule_rows:
        sets.setdefault(row.client_id, {}).setdefault(row.category, []).append(
            Rule(row.doc_type, row.level))
    scopes = _scopes([row.id for row in relations])
    by_supplier: dict[int, list[Any]] = {}
    for relation in relations:
        by_supplier.setdefault(relation.supplier_id, []).append(relation)
    return {supplier_id: _union(by_supplier.get(supplier_id, []), sets, scopes)
            for supplier_id in ids}


def _union(relations: Sequence[Any], sets: dict[int, dict[str, list[Rule]]],
           scopes: dict[int, set[int]]) -> SupplierRequirements:
    if not relations:
        return SupplierRequirements(
            {rule.doc_type: RequiredType(rule.doc_type, rule.level) for rule in default_rules()},
            by_default=True)
    types: dict[str, RequiredType] = {}
    order = list(CATALOGUE)
    for relation in relations:
        scope = scopes.get(relation.id)
        for rule in rules_for(sets.get(relation.client_id, {}), relation.category):
            required = types.setdefault(rule.doc_type, RequiredType(rule.doc_type, rule.level))
            if relation.name not in required.clients:
                required.clients.append(relation.name)
            required.demands.append(Demand(relation.name, rule.level,
                                           None if scope is None else set(scope)))
    for required in types.values():
        # Per establishment as soon as one client asks it there, and of the establishments
        # those clients' relations cover: a company-level demand widens nothing.
        there = [d for d in required.demands if d.level == Level.ESTABLISHMENT]
        required.level = (Level.ESTABLISHMENT if there else Level.COMPANY).value
        if not there or any(d.establishment_ids is None for d in there):
            required.establishment_ids = None
        else:
            required.establishment_ids = {i for d in there for i in d.establishment_ids or ()}
    ordered = sorted(types.values(),
                     key=lambda t: order.index(t.doc_type) if t.doc_type in order else len(order))
    return SupplierRequirements({t.doc_type: t for t in ordered}, by_default=False)


def _scopes(relation_ids: Sequence[int]) -> dict[int, set[int]]:
    """The establishments each narrowed relation covers; absent: all of them."""
    scopes: dict[int, set[int]] = {}
    if not relation_ids:
        return scopes
    for row in db.session.execute(
            select(RelationEstablishment.relation_id, RelationEstablishment.establishment_id)
            .where(RelationEstablishment.relation_id.in_(relation_ids))):
        scopes.setdefault(row.relation_id, set()).add(row.establishment_id)
    return scopes


def relation_scopes(relation_ids: Sequence[int]) -> dict[int, set[int]]:
    """The establishment ids each narrowed relation covers, in one query; absent: all."""
    return _scopes(relation_ids)


def relation_scope(relation_id: int) -> set[int] | None:
    """The establishment ids a relation is narrowed to; None: the whole company."""
    return _scopes([relation_id]).get(relation_id)
