"""What "Mes clients" shows, read in a constant number of queries.

A supplier sees of each client its name, the relation's state and reason,
what the client requires of it and whether each requirement is met, the
history, and what it shares; never the client's own references (supplier
code, contract, category, description): the category only chooses the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, select

from ..dossier.catalogue import CATALOGUE, DocumentType
from ..extensions import db
from ..models import Company, RelationEvent, RelationShare, RelationState, Requirement, User
from ..models import Relation as RelationRow
from ..relations.compliance import Compliance, supplier_compliances
from ..relations.requirements import Rule, rules_for
from ..relations.services import EVENT_LABELS, state_label


@dataclass(frozen=True)
class HistoryLine:
    label: str
    at: datetime
    by: str | None
    reason: str | None


@dataclass
class ClientRelation:
    """One client of the supplier, as the supplier may see it."""

    id: int
    client_name: str
    state: str
    reason: str | None
    invited_at: datetime
    state_changed_at: datetime
    rules: list[Rule]
    compliance: Compliance
    shared: set[str] = field(default_factory=set)
    history: list[HistoryLine] = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return state_label(self.state)

    @property
    def pending(self) -> bool:
        return self.state == RelationState.INVITED

    @property
    def closed(self) -> bool:
        return self.state == RelationState.CLOSED

    @property
    def complementary(self) -> list[DocumentType]:
        """The types this client does not require: the supplier may share them."""
        required = {rule.doc_type for rule in self.rules}
        return [spec for code, spec in CATALOGUE.items() if code not in required]


@dataclass
class ClientsPage:
    pending: list[ClientRelation]
    current: list[ClientRelation]
    ended: list[ClientRelation]

    @property
    def empty(self) -> bool:
        return not (self.pending or self.current or self.ended)


_STATE_ORDER = case(
    (RelationRow.state == RelationState.INVITED.value, 0),
    (RelationRow.state == RelationState.ACTIVE.value, 1),
    (RelationRow.state == RelationState.SUSPENDED.value, 2),
    else_=3)


def clients_page(supplier: Company, today: date) -> ClientsPage:
    """Five queries whatever the number of clients: relations, rules, compliance
    (up to three), shares, history."""
    rows = db.session.execute(
        select(RelationRow.id, RelationRow.client_id, RelationRow.category, RelationRow.state,
               RelationRow.state_reason, RelationRow.invited_at, RelationRow.state_changed_at,
               Company.name)
        .join(Company, Company.id == RelationRow.client_id)
        .where(RelationRow.supplier_id == supplier.id)
        .order_by(_STATE_ORDER, Company.name_key, RelationRow.id)).all()
    if not rows:
        return ClientsPage([], [], [])
    ids = [row.id for row in rows]
    sets: dict[int, dict[str, list[Rule]]] = {}
    order = list(CATALOGUE)
    for rule_row in db.session.execute(
            select(Requirement.client_id, Requirement.category, Requirement.doc_type,
                   Requirement.level)
            .where(Requirement.client_id.in_({row.client_id for row in rows}))):
        sets.setdefault(rule_row.client_id, {}).setdefault(rule_row.category, []).append(
            Rule(rule_row.doc_type, rule_row.level))
    for client_sets in sets.values():
        for rules in client_sets.values():
            rules.sort(key=lambda r: order.index(r.doc_type) if r.doc_type in order
                       else len(order))
    rules_by_id = {row.id: ([] if row.state == RelationState.CLOSED else
                            rules_for(sets.get(row.client_id, {}), row.category))
                   for row in rows}
    compliances = supplier_compliances(supplier.id, list(rules_by_id.items()), today)
    relations = {row.id: ClientRelation(
        row.id, row.name, row.state, row.state_reason, row.invited_at, row.state_changed_at,
        rules_by_id[row.id], compliances.get(row.id, Compliance([]))) for row in rows}
    for relation_id, doc_type in db.session.execute(
            select(RelationShare.relation_id, RelationShare.doc_type)
            .where(RelationShare.relation_id.in_(ids))):
        relations[relation_id].shared.add(doc_type)
    for event in db.session.execute(
            select(RelationEvent.relation_id, RelationEvent.action, RelationEvent.reason,
                   RelationEvent.created_at, User.name)
            .outerjoin(User, User.id == RelationEvent.user_id)
            .where(RelationEvent.relation_id.in_(ids))
            .order_by(RelationEvent.created_at.desc(), RelationEvent.id.desc())):
        relations[event.relation_id].history.append(HistoryLine(
            EVENT_LABELS.get(event.action, event.action), event.created_at, event.name,
            event.reason))
    page = ClientsPage([], [], [])
    for relation in relations.values():
        target = (page.pending if relation.pending else page.ended if relation.closed
                  else page.current)
        target.append(relation)
    return page


def supplier_relation(supplier: Company, relation_id: int) -> ClientRelation | None:
    """One relation of the supplier, for a confirmation page; None when not its own."""
    row = db.session.execute(
        select(RelationRow.id, RelationRow.state, RelationRow.state_reason,
               RelationRow.invited_at, RelationRow.state_changed_at, Company.name)
        .join(Company, Company.id == RelationRow.client_id)
        .where(RelationRow.id == relation_id, RelationRow.supplier_id == supplier.id)).first()
    if row is None:
        return None
    return ClientRelation(row.id, row.name, row.state, row.state_reason, row.invited_at,
                          row.state_changed_at, [], Compliance([]))
