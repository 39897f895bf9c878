"""What a client may see of a supplier's dossier (DOMAIN.md 5).

Through one relation a client sees the types its requirements name, at the
level they name them, plus the complementary types the supplier shares with
it; at establishment level, only the open establishments the relation covers.
Of those slots, only documents that hold or held the slot: the current one and
the validated versions archived behind it, never a pending or refused upload.
Nothing before the supplier accepts the invitation, nothing after closure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, false, or_
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from ..dossier.catalogue import CATALOGUE, Level
from ..models import (
    Document,
    Establishment,
    Relation,
    RelationEstablishment,
    RelationState,
    ReviewState,
)
from .requirements import Rule

# States in which the supplier has consented and the client reads its dossier.
READABLE_STATES = (RelationState.ACTIVE, RelationState.SUSPENDED)


def shows_documents(relation: Relation) -> bool:
    return RelationState(relation.state) in READABLE_STATES


@dataclass(frozen=True)
class VisibleType:
    doc_type: str
    level: str
    required: bool

    @property
    def label(self) -> str:
        return CATALOGUE[self.doc_type].label


def visible_types(rules: list[Rule], shared: set[str]) -> list[VisibleType]:
    """The required types at their rule's level, then the shared ones at their own level."""
    visible = [VisibleType(rule.doc_type, rule.level, True) for rule in rules]
    required = {rule.doc_type for rule in rules}
    order = list(CATALOGUE)
    for code in sorted(shared - required, key=lambda c: order.index(c) if c in order else 99):
        if code in CATALOGUE:
            visible.append(VisibleType(code, CATALOGUE[code].level.value, False))
    return visible


def covered_establishment(relation: Relation, place: Any = Establishment) -> ColumnElement[bool]:
    """`place` (Establishment or an alias) is an open establishment of the supplier
    this relation covers."""
    narrowed = exists().where(RelationEstablishment.relation_id == relation.id)
    chosen = exists().where(RelationEstablishment.relation_id == relation.id,
                            RelationEstablishment.establishment_id == place.id)
    return and_(place.company_id == relation.supplier_id,
                place.closed_at.is_(None), or_(~narrowed, chosen))


def in_visible_slot(relation: Relation, visible: list[VisibleType]) -> ColumnElement[bool]:
    """A document of the supplier in one of the slots the client sees (any state)."""
    company_types = sorted(t.doc_type for t in visible if t.level == Level.COMPANY)
    establishment_types = sorted(t.doc_type for t in visible if t.level == Level.ESTABLISHMENT)
    places = []
    if company_types:
        places.append(and_(Document.doc_type.in_(company_types),
                           Document.establishment_id.is_(None)))
    if establishment_types:
        # An alias: the callers' queries join Establishment for the SIRET.
        site = aliased(Establishment)
        places.append(and_(Document.doc_type.in_(establishment_types),
                           exists().where(site.id == Document.establishment_id,
                                          covered_establishment(relation, site))))
    if not places:
        return false()
    return and_(Document.company_id == relation.supplier_id, or_(*places))


def readable_document() -> ColumnElement[bool]:
    """A document that holds or held its slot: current, or validated and archived."""
    return or_(Document.is_current.is_(True),
               and_(Document.archived_at.is_not(None),
                    Document.review_state == ReviewState.VALIDATED.value))
