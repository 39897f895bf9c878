"""What the Documents tab shows, read in a constant number of queries.

A slot is (company, establishment or none, type). The company section shows
the company-level types; each establishment shows every type, its own
documents first and, for company-level types it has none of, the company's
("document de l'entreprise"). "Ce qui demande une action" (missing, expired,
expiring, refused) is counted in SQL so a chain with thousands of
establishments costs the same few queries as a single shop.

Only required slots (DOMAIN.md 5: the union of what the supplier's active
clients require, else the legal dossier) count as actions, in the summary's
completeness and in the establishments' lines; the other types are
"complémentaires", shown apart and never asked for. `Required` carries that
union into the statements as parameters: the statements stay the same ones.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Boolean, Integer, and_, bindparam, case, exists, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from ..extensions import db
from ..models import Company, Document, DocumentAccess, Establishment, ReviewState
from ..organisations.services import Page, establishment_filter, establishments_page
from .catalogue import CATALOGUE, COMPANY_TYPES, ESTABLISHMENT_TYPES, DocumentType, Level
from .states import ACTION_STATES, State, document_state, sql_dates, state_column, state_condition

_SEVERITY = {State.EXPIRED: 0, State.EXPIRING: 1, State.VALID: 2}


class _RequiredType(Protocol):
    doc_type: str
    level: str
    clients: list[str]
    establishment_ids: set[int] | None

    def company_clients(self) -> list[str]: ...

    def establishment_clients(self, establishment_id: int) -> list[str]: ...


class _Requirements(Protocol):
    """What relations.requirements.supplier_requirements() answers."""

    by_default: bool

    @property
    def types(self) -> Mapping[str, _RequiredType]: ...


@dataclass(frozen=True)
class Required:
    """Which slots of a dossier are required, and by whom.

    `company`: the company-level types whose company slot is required (some client, or
    the legal dossier by default, asks for the company's own document).
    `everywhere` / `some`: the types required of each establishment (of every
    one, or of these ids): the establishment types, and a company-level type
    some client requires at establishment level (the company's document does
    not stand in for it then). `clients`: who requires each type.
    """

    company: frozenset[str]
    everywhere: frozenset[str]
    some: Mapping[str, frozenset[int]]
    clients: Mapping[str, list[str]]
    by_default: bool
    # Who requires each type where (relations.requirements.RequiredType): the clients
    # of the company's slot, and of an establishment's own slot.
    types: Mapping[str, _RequiredType] = field(default_factory=dict)

    @classmethod
    def of(cls, requirements: _Requirements) -> Required:
        company, everywhere, some = set(), set(), {}
        for code, required in requirements.types.items():
            spec = CATALOGUE.get(code)
            if spec is None:
                continue
            # The company's own document, when a client asks for it there (or by default,
            # with no client): a type every client asks of each establishment does not
            # make the company's slot an action (the compliance and the reminders do not
            # ask for it either).
            if spec.level is Level.COMPANY and (requirements.by_default
                                                or required.company_clients()):
                company.add(code)
            if spec.level is Level.ESTABLISHMENT or required.level == Level.ESTABLISHMENT:
                if required.establishment_ids is None:
                    everywhere.add(code)
                else:
                    some[code] = frozenset(required.establishment_ids)
        return cls(frozenset(company), frozenset(everywhere), some,
                   {code: list(t.clients) for code, t in requirements.types.items()},
                   requirements.by_default, dict(requirements.types))

    @classmethod
    def every_type(cls) -> Required:
        """Every catalogue type, as the dossier asked before clients existed."""
        return cls(frozenset(t.code for t in COMPANY_TYPES),
                   frozenset(t.code for t in ESTABLISHMENT_TYPES), {}, {}, True)

    def at_company(self, code: str) -> bool:
        return code in self.company

    def at_establishment(self, code: str, establishment_id: int) -> bool:
        return code in self.everywhere or establishment_id in self.some.get(code, ())

    def of_establishment(self, establishment_id: int) -> Callable[[str], bool]:
        """Whether the establishment must hold its own document of a type."""
        return lambda code: self.at_establishment(code, establishment_id)

    def own_slot(self, code: str) -> bool:
        """Some establishment must hold its own document of this type."""
        return code in self.everywhere or code in self.some

    def required_by(self, code: str, establishment_id: int | None = None) -> list[str]:
        """The clients that require `code` of the company (`establishment_id` None) or of
        that establishment's own slot; all who require the type where none is named there."""
        required = self.types.get(code)
        if required is not None:
            named = (required.company_clients() if establishment_id is None
                     else required.establishment_clients(establishment_id))
            if named:
                return named
        return self.clients.get(code, [])

    def params(self) -> dict[str, Any]:
        """The statements' parameters (see required_condition())."""
        params: dict[str, Any] = {"required_company": sorted(self.company)}
        for code in CATALOGUE:
            params[f"everywhere_{code}"] = code in self.everywhere
            params[f"some_{code}"] = sorted(self.some.get(code, ()))
        return params


def _at_establishment_condition(code: str, establishment_id) -> ColumnElement[bool]:
    """`code` is required of the establishment `establishment_id` (Required.params())."""
    return or_(bindparam(f"everywhere_{code}", type_=Boolean),
               establishment_id.in_(bindparam(f"some_{code}", expanding=True)))


def required_condition() -> ColumnElement[bool]:
    """A document whose slot is required (parameters: Required.params())."""
    return or_(
        and_(Document.establishment_id.is_(None),
             Document.doc_type.in_(bindparam("required_company", expanding=True))),
        *[and_(Document.doc_type == code, Document.establishment_id.is_not(None),
               _at_establishment_condition(code, Document.establishment_id))
          for code in CATALOGUE])


@dataclass(slots=True)
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
    # Required of this place by a client (or the legal dossier); otherwise
    # "complémentaire": shown apart, never an action.
    required: bool = True
    required_by: list[str] = field(default_factory=list)

    @property
    def needs_action(self) -> bool:
        return self.required and self.inherited_from is None and self.state in ACTION_STATES


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
    required: Required | None = None,
) -> list[Slot]:
    """The slots of one place; `required` None: every slot is required."""
    slots = {t.code: Slot(t, establishment) for t in types}
    pending, refused = ReviewState.PENDING.value, ReviewState.REFUSED.value
    for doc in documents:
        slot = slots.get(doc.doc_type)
        if slot is None:
            slot = slots[doc.doc_type] = Slot(CATALOGUE[doc.doc_type], establishment)
        if doc.archived_at is not None:
            slot.history.append(doc)
        elif doc.is_current:
            slot.current.append(doc)
        elif doc.review_state == pending:
            slot.pending.append(doc)
        elif doc.review_state == refused:
            slot.refused.append(doc)
    for slot in slots.values():
        code = slot.doc_type.code
        own = slot.current or slot.pending or slot.refused
        must_own = (required is not None and establishment is not None
                    and required.at_establishment(code, establishment.id))
        if (company_slots is not None and slot.doc_type.level is Level.COMPANY and not own
                and not must_own):
            slot.inherited_from = company_slots.get(code)
        if required is not None:
            # An establishment's slot is required of it, or stands for the company's.
            slot.required = (required.at_company(code) if establishment is None
                             else must_own or (slot.inherited_from is not None
                                               and slot.inherited_from.required))
            # Who asks: for the establishment's own document, or for the company's.
            own_place = establishment.id if must_own and establishment is not None else None
            slot.required_by = required.required_by(code, own_place) if slot.required else []
        if len(slot.history) > 1:
            slot.history.sort(key=lambda d: d.archived_at or d.uploaded_at, reverse=True)
        slot.state = _slot_state(slot, today)
        slot.managed_by = managed_by(slot.doc_type.code)
    return sorted(slots.values(), key=lambda s: _ORDER[s.doc_type.code])


_ORDER = {code: index for index, code in enumerate(CATALOGUE)}


@dataclass
class ActionItem:
    state: State
    doc_type: DocumentType
    establishment: Establishment | EstablishmentRef | None
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
    establishments: Page
    # Per establishment of the page: its summary line. Its slots are loaded when
    # its section opens (hx-get), or shown on its own page.
    summaries: dict[int, EstablishmentSummary]
    counts: dict[State, int]
    actions: list[ActionGroup]
    required: Required = field(default_factory=Required.every_type)
    # Who of the clients downloaded each shown document last (see last_accesses()).
    accesses: dict[int, list[Access]] = field(default_factory=dict)

    def to_do(self, establishment_id: int) -> int:
        return self.summaries[establishment_id].to_do

    def pending(self, establishment_id: int) -> int:
        return self.summaries[establishment_id].pending

    @property
    def action_total(self) -> int:
        return sum(self.counts[state] for state in ACTION_STATES)

    @property
    def required_slots(self) -> list[Slot]:
        return [slot for slot in self.company_slots if slot.required]

    @property
    def complementary_slots(self) -> list[Slot]:
        return [slot for slot in self.company_slots if not slot.required]


@dataclass(frozen=True, slots=True)
class EstablishmentSummary:
    to_do: int
    pending: int


def summarise(documents: Iterable,
              required: Callable[[str], bool] | None = None) -> EstablishmentSummary:
    """An establishment's summary line from its live documents, as its slots would count it.

    Each document comes with its `state` (selected with state_column()). A
    company-level type it has no document of is the company's slot (not counted
    here); every other type is counted once when its slot needs action, with
    the state _slot_state() would give it: its worst current document, else
    pending, else refused. `required(code)`: whether the establishment must
    hold its own document of that type; None: as before clients existed, the
    establishment types are expected and every document of it counts.
    """
    expected: Callable[[str], bool] = required or (
        lambda code: CATALOGUE[code].level is Level.ESTABLISHMENT)
    counted: Callable[[str], bool] = required or (lambda _code: True)
    # Per type: (rank of the slot's state so far, its state); lower ranks win.
    slots: dict[str, tuple[int, str]] = {}
    pending = 0
    for doc in documents:
        rank = _SUMMARY_RANK.get(doc.state if doc.is_current else doc.review_state)
        if doc.review_state == _PENDING:
            pending += 1
        if rank is not None:
            best = slots.get(doc.doc_type)
            if best is None or rank < best[0]:
                slots[doc.doc_type] = (rank, doc.state if doc.is_current else doc.review_state)
    to_do = sum(1 for code in CATALOGUE if expected(code) and code not in slots)
    to_do += sum(1 for code, (_rank, state) in slots.items()
                 if state in _ACTION_VALUES and counted(code))
    return EstablishmentSummary(to_do, pending)


_PENDING = ReviewState.PENDING.value
# A current document decides its slot (the worst one first); then a pending upload;
# then a refusal.
_SUMMARY_RANK = {State.EXPIRED.value: 0, State.EXPIRING.value: 1, State.VALID.value: 2,
                 ReviewState.PENDING.value: 3, ReviewState.REFUSED.value: 4}
_ACTION_VALUES = frozenset(state.value for state in ACTION_STATES)


# The Documents tab runs the same statements on every view: they are built once,
# with the company, the dates and the required types as parameters, and only
# executed per request.
_COMPANY = bindparam("company_id", type_=Integer)


def _dates(company: Company, today: date, required: Required) -> dict:
    return {"company_id": company.id, **sql_dates(today), **required.params()}


def _missing_condition(code: str):
    occupied = exists().where(
        Document.establishment_id == Establishment.id,
        Document.doc_type == code,
        Document.archived_at.is_(None),
    )
    return and_(_at_establishment_condition(code, Establishment.id), ~occupied)


# Per type, the establishments that must hold their own document of it and have none.
_MISSING_COUNTS = {
    code: select(func.count(Establishment.id)).where(
        Establishment.company_id == _COMPANY, _missing_condition(code))
    for code in CATALOGUE
}
_COUNTED = (State.EXPIRED, State.EXPIRING, State.VALID, State.PENDING, State.REFUSED)
# One statement: the documents of each state (those that are actions: only the
# required ones), and the empty required establishment slots.
_COUNTS = select(
    *[func.coalesce(func.sum(case(
        (and_(state_condition(state), required_condition()) if state in ACTION_STATES
         else state_condition(state), 1), else_=0)), 0)
      for state in _COUNTED],
    *[statement.scalar_subquery() for statement in _MISSING_COUNTS.values()],
).where(Document.company_id == _COMPANY)


def _missing_company(company_docs: list[Document], today: date,
                     required: Required) -> list[Slot]:
    return [slot for slot in build_slots(COMPANY_TYPES, None, company_docs, today,
                                         required=required)
            if slot.required and slot.state is State.MISSING]


def _counts(company: Company, today: date, company_docs: list[Document],
            required: Required) -> dict[State, int]:
    row = db.session.execute(_COUNTS, _dates(company, today, required)).one()
    counts = dict(zip(_COUNTED, (int(value) for value in row), strict=False))
    counts[State.MISSING] = (len(_missing_company(company_docs, today, required))
                             + sum(int(v or 0) for v in row[len(_COUNTED):]))
    return counts


def _missing_establishment_slots_count(company: Company, required: Required,
                                       query: str = "") -> int:
    total = 0
    for code in CATALOGUE:
        if not required.own_slot(code):
            continue
        statement = _MISSING_COUNTS[code]
        if query:
            statement = statement.where(*establishment_filter(query))
        total += db.session.scalar(
            statement, {"company_id": company.id, **required.params()}) or 0
    return total


def _missing_items(company: Company, today: date, company_docs: list[Document], query: str,
                   limit: int, offset: int, required: Required) -> list[ActionItem]:
    items: list[ActionItem] = []
    if not query:
        items = [ActionItem(State.MISSING, slot.doc_type, None, None)
                 for slot in _missing_company(company_docs, today, required)]
    for code in CATALOGUE:
        if not required.own_slot(code):
            continue
        statement = _MISSING_ITEMS[code]
        if query:
            statement = statement.where(*establishment_filter(query))
        establishments = db.session.execute(
            statement, {"company_id": company.id, "limit": limit + offset, **required.params()})
        items.extend(ActionItem(State.MISSING, CATALOGUE[code], EstablishmentRef(*est), None)
                     for est in establishments)
    return items[offset:offset + limit]


_MISSING_ITEMS = {
    code: select(Establishment.id, Establishment.siret, Establishment.name)
    .where(Establishment.company_id == _COMPANY, _missing_condition(code))
    .order_by(Establishment.siret)
    .limit(bindparam("limit"))
    for code in CATALOGUE
}


_ITEM_ORDER = {
    State.EXPIRED: (Document.effective_end,),
    State.EXPIRING: (Document.effective_end,),
    State.VALID: (Document.effective_end,),
    State.PENDING: (Document.uploaded_at,),
    State.REFUSED: (Document.reviewed_at.desc(),),
    State.ARCHIVED: (Document.archived_at.desc(),),
}


def _listed(state: State) -> ColumnElement[bool]:
    """The documents a state's list shows: for an action, only the required ones."""
    if state in ACTION_STATES:
        return and_(state_condition(state), required_condition())
    return state_condition(state)


_ITEM_ESTABLISHMENT = aliased(Establishment)
_ITEMS = {
    state: select(Document, _ITEM_ESTABLISHMENT.id, _ITEM_ESTABLISHMENT.siret,
                  _ITEM_ESTABLISHMENT.name)
    .outerjoin(_ITEM_ESTABLISHMENT, _ITEM_ESTABLISHMENT.id == Document.establishment_id)
    .where(Document.company_id == _COMPANY, _listed(state))
    .order_by(*order, Document.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
    for state, order in _ITEM_ORDER.items()
}
_ITEM_TOTALS = {
    state: select(func.count(Document.id)).where(Document.company_id == _COMPANY,
                                                 _listed(state))
    for state in _ITEM_ORDER
}


@dataclass(frozen=True)
class EstablishmentRef:
    id: int
    siret: str
    name: str


def _item(state: State, doc: Document, est_id, siret, name) -> ActionItem:
    return ActionItem(state, CATALOGUE[doc.doc_type],
                      EstablishmentRef(est_id, siret, name) if est_id is not None else None, doc)


def _document_items(company: Company, state: State, today: date, query: str, per_page: int,
                    page: int, required: Required) -> tuple[list[ActionItem], int, int]:
    """One page of the documents in `state`, their total, and the page number shown."""
    statement, count = _ITEMS[state], _ITEM_TOTALS[state]
    terms = establishment_filter(query)
    if terms:
        within = Document.establishment_id.in_(
            select(Establishment.id).where(Establishment.company_id == company.id, *terms))
        statement, count = statement.where(within), count.where(within)
    params = _dates(company, today, required)
    total = db.session.scalar(count, params) or 0
    page = min(max(page, 1), max(1, math.ceil(total / per_page)))
    rows = db.session.execute(statement, {**params, "limit": per_page,
                                          "offset": (page - 1) * per_page})
    return [_item(state, *row) for row in rows], total, page


_PREVIEWED = (State.EXPIRED, State.EXPIRING, State.REFUSED)
_PREVIEW_STATE = state_column()
_PREVIEW_RANKS = (
    select(Document.id, _PREVIEW_STATE.label("state"), func.row_number().over(
        partition_by=_PREVIEW_STATE,
        # As the filtered lists order them: refusals latest first, others by end date.
        order_by=(case((state_condition(State.REFUSED), Document.reviewed_at)).desc(),
                  Document.effective_end, Document.id),
    ).label("rank"))
    .where(Document.company_id == _COMPANY, required_condition(),
           or_(*[state_condition(state) for state in _PREVIEWED]))
    .subquery()
)
_PREVIEWS = (
    select(Document, _ITEM_ESTABLISHMENT.id, _ITEM_ESTABLISHMENT.siret, _ITEM_ESTABLISHMENT.name,
           _PREVIEW_RANKS.c.state)
    .join(_PREVIEW_RANKS, _PREVIEW_RANKS.c.id == Document.id)
    .outerjoin(_ITEM_ESTABLISHMENT, _ITEM_ESTABLISHMENT.id == Document.establishment_id)
    .where(_PREVIEW_RANKS.c.rank <= bindparam("limit"))
    .order_by(_PREVIEW_RANKS.c.state, _PREVIEW_RANKS.c.rank)
)


def _previews(company: Company, today: date, limit: int,
              required: Required) -> dict[State, list[ActionItem]]:
    """The first documents of each state "Ce qui demande une action" lists, in one query."""
    previews: dict[State, list[ActionItem]] = {state: [] for state in _PREVIEWED}
    for doc, est_id, siret, name, state in db.session.execute(
            _PREVIEWS, {**_dates(company, today, required), "limit": limit}):
        previews[State(state)].append(_item(State(state), doc, est_id, siret, name))  # type: ignore[arg-type]
    return previews


_COMPANY_DOCUMENTS = (
    select(Document)
    .where(Document.company_id == _COMPANY, Document.establishment_id.is_(None))
    .order_by(Document.uploaded_at.desc(), Document.id.desc())
)
# What an establishment's summary line needs: live documents with their state
# (the states table's SQL column), no ORM objects.
_PAGE_DOCUMENTS = (
    select(Document.establishment_id, Document.doc_type, Document.is_current,
           Document.review_state, state_column().label("state"))
    .where(Document.company_id == _COMPANY,
           Document.establishment_id.in_(bindparam("ids", expanding=True)),
           Document.archived_at.is_(None))
)


def _company_documents(company: Company) -> list[Document]:
    return list(db.session.scalars(_COMPANY_DOCUMENTS, {"company_id": company.id}))


@dataclass(frozen=True)
class Access:
    """A client's last download of one document."""

    client: str
    at: datetime


_LAST_ACCESSES = (
    select(DocumentAccess.document_id, Company.name,
           func.max(DocumentAccess.created_at).label("at"))
    .join(Company, Company.id == DocumentAccess.client_id)
    .where(DocumentAccess.document_id.in_(bindparam("ids", expanding=True)))
    .group_by(DocumentAccess.document_id, Company.id, Company.name)
)


def last_accesses(documents: Iterable[Document]) -> dict[int, list[Access]]:
    """Per document: each client's last download, latest first; one query (none without
    documents)."""
    ids = sorted({document.id for document in documents})
    accesses: dict[int, list[Access]] = {}
    if not ids:
        return accesses
    for document_id, client, at in db.session.execute(_LAST_ACCESSES, {"ids": ids}):
        accesses.setdefault(document_id, []).append(Access(client, at))
    for items in accesses.values():
        items.sort(key=lambda a: (a.at, a.client), reverse=True)
    return accesses


def _slot_documents(slots: Iterable[Slot]) -> list[Document]:
    return [doc for slot in slots for doc in (*slot.current, *slot.history)]


def load_dossier(
    company: Company,
    today: date,
    *,
    query: str = "",
    page: int = 1,
    per_page: int = 20,
    preview: int = 5,
    managed_by: Callable[[str], str | None] = lambda _code: None,
    required: Required | None = None,
) -> Dossier:
    """The Documents tab; `required` None: every catalogue type is required."""
    required = required or Required.every_type()
    company_docs = _company_documents(company)
    company_slots = build_slots(COMPANY_TYPES, None, company_docs, today, managed_by=managed_by,
                                required=required)

    establishments = establishments_page(company, query=query, page=page, per_page=per_page)
    ids = [est.id for est in establishments.items]
    by_establishment: dict[int, list] = defaultdict(list)
    if ids:
        for doc in db.session.execute(_PAGE_DOCUMENTS,
                                      {**_dates(company, today, required), "ids": ids}):
            by_establishment[doc.establishment_id].append(doc)
    summaries = {est.id: summarise(by_establishment[est.id], required.of_establishment(est.id))
                 for est in establishments.items}

    counts = _counts(company, today, company_docs, required)
    actions = [ActionGroup(State.MISSING, counts[State.MISSING],
                           _missing_items(company, today, company_docs, "", preview, 0,
                                          required))]
    previews = _previews(company, today, preview, required)
    actions += [ActionGroup(state, counts[state], previews[state]) for state in _PREVIEWED]
    return Dossier(company, today, company_slots, establishments, summaries, counts, actions,
                   required, last_accesses(_slot_documents(company_slots)))


@dataclass(frozen=True)
class FilteredList(Page):
    """A page of the dossier's slots or documents in one state."""

    state: State = State.MISSING


def filtered_items(company: Company, state: State, today: date, *, query: str = "",
                   page: int = 1, per_page: int = 50,
                   required: Required | None = None) -> FilteredList:
    """Every slot or document of the dossier in one state, paginated; the actions
    (missing, expired, expiring, refused) only for required slots."""
    required = required or Required.every_type()
    if state is State.MISSING:
        company_docs = _company_documents(company)
        total = _missing_establishment_slots_count(company, required, query)
        if not query:
            total += len(_missing_company(company_docs, today, required))
        pages = max(1, math.ceil(total / per_page))
        page = min(max(page, 1), pages)
        items = _missing_items(company, today, company_docs, query, per_page,
                               (page - 1) * per_page, required)
        return FilteredList(items, total, page, per_page, query, state)
    items, total, page = _document_items(company, state, today, query, per_page, page,
                                         required)
    return FilteredList(items, total, page, per_page, query, state)


def establishment_slots(
    company: Company,
    establishment,
    today: date,
    *,
    managed_by: Callable[[str], str | None] = lambda _code: None,
    required: Required | None = None,
) -> list[Slot]:
    """Every catalogue type for one establishment: its own documents, or the company's."""
    required = required or Required.every_type()
    company_slots = build_slots(COMPANY_TYPES, None, _company_documents(company), today,
                                managed_by=managed_by, required=required)
    documents = db.session.scalars(
        select(Document)
        .where(Document.company_id == company.id,
               Document.establishment_id == establishment.id)
        .order_by(Document.uploaded_at.desc(), Document.id.desc())
    )
    return build_slots(CATALOGUE.values(), establishment, documents, today,
                       company_slots={slot.doc_type.code: slot for slot in company_slots},
                       managed_by=managed_by, required=required)


__all__ = ["Access", "Dossier", "FilteredList", "Required", "Slot", "establishment_slots",
           "filtered_items", "last_accesses", "load_dossier", "required_condition",
           "summarise"]
