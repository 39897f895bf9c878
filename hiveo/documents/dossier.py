"""What the Documents tab shows, read in a constant number of queries.

A slot is (company, establishment or none, type). The company section shows
the company-level types; each establishment shows every type, its own
documents first and, for company-level types it has none of, the company's
("document de l'entreprise"). "Ce qui demande une action" (missing, expired,
expiring, refused) is counted in SQL so a chain with thousands of
establishments costs the same few queries as a single shop.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Company, Document, Establishment, ReviewState
from ..organisations.services import EstablishmentPage, establishments_page, search_terms
from .catalogue import CATALOGUE, COMPANY_TYPES, ESTABLISHMENT_TYPES, DocumentType, Level
from .states import EXPIRING_DAYS, State, document_state, validity_state

_SEVERITY = {State.EXPIRED: 0, State.EXPIRING: 1, State.VALID: 2}


@dataclass
class Slot:
    doc_type: DocumentType
    establishment: Establishment | None
    current: list[Document] = field(default_factory=list)
    pending: list[Document] = field(default_factory=list)
    refused: list[Document] = field(default_factory=list)
    history: list[Document] = field(default_factory=list)
    # An establishment's company-level type with no document of its own is
    # covered by the company's slot: its state is the company's, and any
    # action is counted once, at the company level.
    inherited_from: Slot | None = None
    state: State = State.MISSING
    managed_by: str | None = None

    @property
    def needs_action(self) -> bool:
        return self.inherited_from is None and self.state in (
            State.MISSING, State.EXPIRED, State.EXPIRING, State.REFUSED)


def _slot_state(slot: Slot, today: date) -> State:
    if slot.inherited_from is not None:
        return slot.inherited_from.state
    if slot.current:
        return min((document_state(doc, today) for doc in slot.current),
                   key=lambda s: _SEVERITY[s])
    if slot.pending:
        return State.PENDING
    if slot.refused:
        return State.REFUSED
    return State.MISSING


def build_slots(
    types: Iterable[DocumentType],
    establishment: Establishment | None,
    documents: Iterable[Document],
    today: date,
    company_slots: dict[str, Slot] | None = None,
    managed_by: Callable[[str], str | None] = lambda _code: None,
) -> list[Slot]:
    slots = {t.code: Slot(t, establishment) for t in types}
    for doc in documents:
        slot = slots.get(doc.doc_type)
        if slot is None:
            slot = slots[doc.doc_type] = Slot(CATALOGUE[doc.doc_type], establishment)
        if doc.archived_at is not None:
            slot.history.append(doc)
        elif doc.is_current:
            slot.current.append(doc)
        elif doc.review_state == ReviewState.PENDING:
            slot.pending.append(doc)
        elif doc.review_state == ReviewState.REFUSED:
            slot.refused.append(doc)
    for slot in slots.values():
        own = slot.current or slot.pending or slot.refused
        if company_slots is not None and slot.doc_type.level is Level.COMPANY and not own:
            slot.inherited_from = company_slots.get(slot.doc_type.code)
        slot.history.sort(key=lambda d: d.archived_at, reverse=True)
        slot.state = _slot_state(slot, today)
        slot.managed_by = managed_by(slot.doc_type.code)
    order = list(CATALOGUE)
    return sorted(slots.values(), key=lambda s: order.index(s.doc_type.code))


@dataclass
class ActionItem:
    state: State
    doc_type: DocumentType
    establishment: Establishment | None
    document: Document | None


@dataclass
class ActionGroup:
    state: State
    count: int
    items: list[ActionItem]


@dataclass
class Dossier:
    company: Company
    today: date
    company_slots: list[Slot]
    establishments: EstablishmentPage
    establishment_slots: dict[int, list[Slot]]
    counts: dict[State, int]
    actions: list[ActionGroup]

    @property
    def action_total(self) -> int:
        return sum(self.counts[state] for state in
                   (State.MISSING, State.EXPIRED, State.EXPIRING, State.REFUSED))


def _live(document=Document):
    return document.archived_at.is_(None)


def _state_condition(state: State, today: date):
    soon = today + timedelta(days=EXPIRING_DAYS)
    current = and_(Document.is_current.is_(True), _live())
    if state is State.EXPIRED:
        return and_(current, or_(Document.effective_end < today,
                                 Document.provider_state == "expired"))
    not_expired = and_(Document.effective_end >= today,
                       or_(Document.provider_state.is_(None), Document.provider_state != "expired"))
    if state is State.EXPIRING:
        return and_(current, not_expired, Document.effective_end <= soon)
    if state is State.VALID:
        return and_(current, not_expired, Document.effective_end > soon)
    if state is State.PENDING:
        return and_(_live(), Document.review_state == ReviewState.PENDING.value)
    if state is State.REFUSED:
        return and_(_live(), Document.review_state == ReviewState.REFUSED.value)
    if state is State.ARCHIVED:
        return Document.archived_at.is_not(None)
    raise ValueError(state)


def _counts(company: Company, today: date, company_docs: list[Document]) -> dict[State, int]:
    columns = [
        func.coalesce(func.sum(case((_state_condition(state, today), 1), else_=0)), 0)
        for state in (State.EXPIRED, State.EXPIRING, State.VALID, State.PENDING, State.REFUSED)
    ]
    row = db.session.execute(
        select(*columns).where(Document.company_id == company.id)
    ).one()
    counts = dict(zip((State.EXPIRED, State.EXPIRING, State.VALID, State.PENDING, State.REFUSED),
                      (int(value) for value in row), strict=True))
    missing_company = sum(
        1 for slot in build_slots(COMPANY_TYPES, None, company_docs, today)
        if slot.state is State.MISSING
    )
    counts[State.MISSING] = missing_company + _missing_establishment_slots_count(company)
    return counts


def _missing_condition(doc_type: DocumentType):
    occupied = exists().where(
        Document.establishment_id == Establishment.id,
        Document.doc_type == doc_type.code,
        Document.archived_at.is_(None),
    )
    return ~occupied


def _missing_establishment_slots_count(company: Company, query: str = "") -> int:
    total = 0
    for doc_type in ESTABLISHMENT_TYPES:
        total += db.session.scalar(
            select(func.count(Establishment.id)).where(
                Establishment.company_id == company.id,
                _missing_condition(doc_type),
                *_establishment_filter(query),
            )
        ) or 0
    return total


def _establishment_filter(query: str) -> list:
    from ..organisations.services import _like_escape

    return [
        Establishment.search_text.like(f"%{_like_escape(term)}%", escape="\\")
        for term in search_terms(query)
    ]


def _missing_items(company: Company, today: date, company_docs: list[Document], query: str,
                   limit: int, offset: int) -> list[ActionItem]:
    items: list[ActionItem] = []
    if not query:
        items = [
            ActionItem(State.MISSING, slot.doc_type, None, None)
            for slot in build_slots(COMPANY_TYPES, None, company_docs, today)
            if slot.state is State.MISSING
        ]
    for doc_type in ESTABLISHMENT_TYPES:
        establishments = db.session.scalars(
            select(Establishment)
            .where(Establishment.company_id == company.id, _missing_condition(doc_type),
                   *_establishment_filter(query))
            .order_by(Establishment.siret)
            .limit(limit + offset)
        )
        items.extend(ActionItem(State.MISSING, doc_type, est, None) for est in establishments)
    return items[offset:offset + limit]


def _document_items(company: Company, state: State, today: date, query: str, limit: int,
                    offset: int) -> tuple[list[ActionItem], int]:
    establishment = aliased(Establishment)
    conditions = [Document.company_id == company.id, _state_condition(state, today)]
    terms = _establishment_filter(query)
    if terms:
        conditions.append(
            Document.establishment_id.in_(
                select(Establishment.id).where(Establishment.company_id == company.id, *terms)
            )
        )
    order = {
        State.EXPIRED: Document.effective_end,
        State.EXPIRING: Document.effective_end,
        State.VALID: Document.effective_end,
        State.PENDING: Document.uploaded_at,
        State.REFUSED: Document.reviewed_at.desc(),
        State.ARCHIVED: Document.archived_at.desc(),
    }[state]
    total = db.session.scalar(select(func.count(Document.id)).where(*conditions)) or 0
    rows = db.session.execute(
        select(Document, establishment)
        .outerjoin(establishment, establishment.id == Document.establishment_id)
        .where(*conditions)
        .order_by(order, Document.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [ActionItem(state, CATALOGUE[doc.doc_type], est, doc) for doc, est in rows], total


def _company_documents(company: Company) -> list[Document]:
    return list(db.session.scalars(
        select(Document)
        .where(Document.company_id == company.id, Document.establishment_id.is_(None))
        .order_by(Document.uploaded_at.desc(), Document.id.desc())
    ))


def load_dossier(
    company: Company,
    today: date,
    *,
    query: str = "",
    page: int = 1,
    per_page: int = 20,
    preview: int = 5,
    managed_by: Callable[[str], str | None] = lambda _code: None,
) -> Dossier:
    company_docs = _company_documents(company)
    company_slots = build_slots(COMPANY_TYPES, None, company_docs, today, managed_by=managed_by)
    by_code = {slot.doc_type.code: slot for slot in company_slots}

    establishments = establishments_page(company, query=query, page=page, per_page=per_page)
    ids = [est.id for est in establishments.items]
    by_establishment: dict[int, list[Document]] = defaultdict(list)
    if ids:
        for doc in db.session.scalars(
            select(Document)
            .where(Document.establishment_id.in_(ids))
            .order_by(Document.uploaded_at.desc(), Document.id.desc())
        ):
            by_establishment[doc.establishment_id].append(doc)
    establishment_slots = {
        est.id: build_slots(CATALOGUE.values(), est, by_establishment[est.id], today,
                            company_slots=by_code, managed_by=managed_by)
        for est in establishments.items
    }

    counts = _counts(company, today, company_docs)
    actions = [ActionGroup(State.MISSING, counts[State.MISSING],
                           _missing_items(company, today, company_docs, "", preview, 0))]
    for state in (State.EXPIRED, State.EXPIRING, State.REFUSED):
        items, _total = _document_items(company, state, today, "", preview, 0)
        actions.append(ActionGroup(state, counts[state], items))
    return Dossier(company, today, company_slots, establishments, establishment_slots, counts,
                   actions)


@dataclass
class FilteredList:
    state: State
    items: list[ActionItem]
    total: int
    page: int
    per_page: int
    query: str

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def filtered_items(company: Company, state: State, today: date, *, query: str = "",
                   page: int = 1, per_page: int = 50) -> FilteredList:
    """Every slot or document of the dossier in one state, paginated."""
    if state is State.MISSING:
        company_docs = _company_documents(company)
        total = _missing_establishment_slots_count(company, query)
        if not query:
            total += sum(1 for slot in build_slots(COMPANY_TYPES, None, company_docs, today)
                         if slot.state is State.MISSING)
        pages = max(1, math.ceil(total / per_page))
        page = min(max(page, 1), pages)
        items = _missing_items(company, today, company_docs, query, per_page,
                               (page - 1) * per_page)
        return FilteredList(state, items, total, page, per_page, query)
    _, total = _document_items(company, state, today, query, 0, 0)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    items, total = _document_items(company, state, today, query, per_page, (page - 1) * per_page)
    return FilteredList(state, items, total, page, per_page, query)


__all__ = ["Dossier", "FilteredList", "Slot", "filtered_items", "load_dossier", "validity_state"]
