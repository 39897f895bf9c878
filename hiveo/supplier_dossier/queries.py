"""The reads of the client's view of one supplier, in a constant number of queries.

Whatever the number of documents, versions, establishments or history lines:
the relation, the rules, the shares, the compliance (relation_compliance), the
covered establishments, the documents, the scope and the history, each once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, joinedload

from ..dossier.catalogue import CATALOGUE, Level
from ..dossier.queries import build_slots
from ..dossier.states import State
from ..extensions import db
from ..models import (
    Company,
    Document,
    Establishment,
    Relation,
    RelationEstablishment,
    RelationEvent,
    ReviewState,
)
from ..organisations.services import Page
from ..relations.visibility import (
    VisibleType,
    covered_establishment,
    in_visible_slot,
    readable_document,
)

HISTORY_LIMIT = 500
ESTABLISHMENTS_PER_PAGE = 50


@dataclass
class DossierSlot:
    """One slot the client sees: its state, the document holding it, the older versions."""

    visible: VisibleType
    establishment: Establishment | None
    state: State
    current: list[Document]
    history: list[Document]

    @property
    def label(self) -> str:
        return self.visible.label


def find_relation(client_id: int, supplier_siren: str) -> tuple[Relation, Company] | None:
    """The client's relation with the supplier of this SIREN, and the supplier."""
    supplier = aliased(Company)
    row = db.session.execute(
        select(Relation, supplier)
        .join(supplier, supplier.id == Relation.supplier_id)
        .where(Relation.client_id == client_id, supplier.siren == supplier_siren)).first()
    return (row[0], row[1]) if row else None


def covered_establishments(relation: Relation, page: int, per_page: int
                           ) -> Page:
    """One page of the open establishments the relation covers, by SIRET, and their total."""
    total = db.session.scalar(
        select(func.count(Establishment.id)).where(covered_establishment(relation))) or 0
    page = min(page, max(1, math.ceil(total / per_page)))
    items = list(db.session.scalars(
        select(Establishment).where(covered_establishment(relation))
        .order_by(Establishment.siret).limit(per_page).offset((page - 1) * per_page)))
    return Page(items, total, page, per_page, "")


def scope_establishments(relation: Relation) -> list[Establishment]:
    """The establishments the relation is narrowed to; empty: the whole company."""
    return list(db.session.scalars(
        select(Establishment)
        .join(RelationEstablishment, RelationEstablishment.establishment_id == Establishment.id)
        .where(RelationEstablishment.relation_id == relation.id)
        .order_by(Establishment.siret)))


def dossier_slots(relation: Relation, visible: list[VisibleType], today: date, *,
                  page: int = 1, per_page: int = ESTABLISHMENTS_PER_PAGE
                  ) -> tuple[list[DossierSlot], Page | None]:
    """The company's visible slots, then those of one page of covered establishments
    (None when no type is required per establishment)."""
    if not visible:
        return [], None
    establishment_types = [t for t in visible if t.level == Level.ESTABLISHMENT]
    sites = covered_establishments(relation, page, per_page) if establishment_types else None
    establishments: list[Establishment] = list(sites.items) if sites else []
    # Live documents give each slot its state; only readable ones are ever listed.
    documents = db.session.scalars(
        select(Document).where(
            in_visible_slot(relation, visible),
            or_(Document.archived_at.is_(None), readable_document()),
            or_(Document.establishment_id.is_(None),
                Document.establishment_id.in_([e.id for e in establishments])))
        .order_by(Document.id))
    by_place: dict[int | None, list[Document]] = {}
    for document in documents:
        by_place.setdefault(document.establishment_id, []).append(document)
    slots: list[DossierSlot] = []
    places: list[tuple[Establishment | None, list[VisibleType]]] = [
        (None, [t for t in visible if t.level == Level.COMPANY])]
    places += [(establishment, establishment_types) for establishment in establishments]
    for place, types in places:
        if not types:
            continue
        key = place.id if place is not None else None
        codes = {t.doc_type for t in types}
        docs = [d for d in by_place.get(key, []) if d.doc_type in codes]
        built = {slot.doc_type.code: slot for slot in
                 build_slots([CATALOGUE[t.doc_type] for t in types], place, docs, today)}
        for visible_type in types:
            slot = built[visible_type.doc_type]
            history = [d for d in slot.history
                       if d.review_state == ReviewState.VALIDATED.value]
            slots.append(DossierSlot(visible_type, place, slot.state, list(slot.current),
                                     history))
    return slots, sites


@dataclass(frozen=True)
class HistoryLine:
    event: RelationEvent
    user_name: str | None


def relation_history(relation: Relation) -> list[HistoryLine]:
    """The relation's events, newest first, with who made them (either side)."""
    events = db.session.scalars(
        select(RelationEvent).where(RelationEvent.relation_id == relation.id)
        .options(joinedload(RelationEvent.user))
        .order_by(RelationEvent.created_at.desc(), RelationEvent.id.desc())
        .limit(HISTORY_LIMIT))
    return [HistoryLine(event, (event.user.name or event.user.email) if event.user else None)
            for event in events]


def readable_document_of(relation: Relation, visible: list[VisibleType], document_id: int
                         ) -> tuple[Document, str | None] | None:
    """One document the client may download, with its establishment's SIRET; else None."""
    row = db.session.execute(
        select(Document, Establishment.siret)
        .outerjoin(Establishment, Establishment.id == Document.establishment_id)
        .where(Document.id == document_id, in_visible_slot(relation, visible),
               readable_document())).first()
    return (row[0], row[1]) if row else None


def current_required_documents(relation: Relation, required: list[VisibleType]
                               ) -> list[tuple[Document, str | None]]:
    """The current documents of the required slots, in force or not, for the ZIP."""
    rows = db.session.execute(
        select(Document, Establishment.siret)
        .outerjoin(Establishment, Establishment.id == Document.establishment_id)
        .where(in_visible_slot(relation, required), Document.is_current.is_(True))
        .order_by(Document.doc_type, Establishment.siret, Document.id)).all()
    order = list(CATALOGUE)
    result: list[tuple[Document, str | None]] = [(row[0], row[1]) for row in rows]
    result.sort(key=lambda pair: (order.index(pair[0].doc_type) if pair[0].doc_type in order
                                  else len(order), pair[1] or "", pair[0].id))
    return result
