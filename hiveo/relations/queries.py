"""The client's list of suppliers ("Mes fournisseurs") and its exports, in SQL.

Every figure comes from the SQL of compliance.py: the page, its counts header
and the exports cost a fixed number of statements whatever the number of
suppliers. The header and the "non conformes" filter read each relation's
stored standing (figures.py); the rows shown that it does not say compliant
get their figures (problems, next expiry) computed for the page alone. Only
what orders or filters on those figures (the sorts by compliance and by
expiry, "expire sous 30 jours") computes them for every relation it may show.

What the list shows: relations that are not closed (closed ones behind their
own filter). The compliance badge is for active relations; an invitation or
a suspension shows its state instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, Integer, String, bindparam, case, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ..core.inputs import ascii_digits
from ..core.text import fold, plural
from ..dossier.states import TODAY, sql_dates
from ..extensions import db
from ..models import Company, Establishment, Relation, RelationState
from ..organisations.services import Page, like_escape
from .compliance import compliance_select, never_deposited
from .figures import compliant_on, compliant_parts
from .visibility import READABLE_STATES

# The choices of the "Afficher" filter: value in the URL → label.
STATUS_FILTERS = {
    "non-conformes": "Non conformes",
    "expire-30-jours": "Expire sous 30 jours",
    "jamais-depose": "Jamais déposé",
    "invitations": "Invitation en attente",
    "suspendues": "Suspendues",
    "cloturees": "Clôturées",
}
EXPIRY_WINDOW_DAYS = 30

# Sortable columns: value in the URL → what the header says.
SORTS = {
    "nom": "Fournisseur",
    "siren": "SIREN",
    "code": "Code fournisseur",
    "categorie": "Catégorie",
    "etat": "État",
    "conformite": "Conformité",
    "echeance": "Prochaine échéance",
    "modification": "Dernière modification",
}
DEFAULT_SORT = "nom"

# The exports build the whole list in memory: beyond this many rows they stop
# (and say so in their last line), far above any client of today.
EXPORT_ROW_CAP = 20_000


@dataclass(frozen=True)
class SupplierFilters:
    """What the person asked to see: one status filter, a category, a search."""

    status: str = ""
    category: str = ""
    query: str = ""

    @classmethod
    def from_args(cls, args: Any) -> SupplierFilters:
        status = args.get("afficher", "")
        return cls(status=status if status in STATUS_FILTERS else "",
                   category=(args.get("categorie", "") or "").strip()[:80],
                   query=(args.get("q", "") or "").strip()[:100])

    def as_args(self) -> dict[str, str]:
        """The filters as URL parameters, empty ones left out."""
        pairs = {"afficher": self.status, "categorie": self.category, "q": self.query}
        return {key: value for key, value in pairs.items() if value}

    @property
    def any(self) -> bool:
        return bool(self.status or self.category or self.query)


@dataclass(frozen=True)
class SupplierSort:
    column: str = DEFAULT_SORT
    descending: bool = False

    @classmethod
    def from_args(cls, args: Any) -> SupplierSort:
        column = args.get("tri", DEFAULT_SORT)
        if column not in SORTS:
            column = DEFAULT_SORT
        return cls(column, args.get("ordre") == "desc")

    def as_args(self) -> dict[str, str]:
        pairs = {"tri": "" if self.column == DEFAULT_SORT else self.column,
                 "ordre": "desc" if self.descending else ""}
        return {key: value for key, value in pairs.items() if value}

    def aria(self, column: str) -> str | None:
        """The aria-sort of a column header: only the sorted column has one."""
        if column != self.column:
            return None
        return "descending" if self.descending else "ascending"

    def toggled(self, column: str) -> SupplierSort:
        """The sort a click on `column`'s header asks for."""
        if column == self.column:
            return SupplierSort(column, not self.descending)
        return SupplierSort(column, False)


@dataclass(frozen=True)
class SupplierRow:
    relation_id: int
    supplier_id: int
    name: str
    siren: str
    supplier_code: str | None
    category: str
    state: str
    unmet: int
    next_expiry: date | None
    changed_at: datetime

    @property
    def compliant(self) -> bool | None:
        """True or False for an active relation; None when compliance does not apply."""
        if self.state != RelationState.ACTIVE:
            return None
        return self.unmet == 0


@dataclass(frozen=True)
class SupplierCounts:
    total: int = 0
    compliant: int = 0
    non_compliant: int = 0
    invited: int = 0
    suspended: int = 0
    closed: int = 0

    def parts(self) -> list[str]:
        """The header: "132 fournisseurs · 118 conformes · …" (suspended and closed if any)."""
        parts = [plural(self.total, "fournisseur"), plural(self.compliant, "conforme"),
                 plural(self.non_compliant, "non conforme", "non conformes"),
                 plural(self.invited, "invitation en attente", "invitations en attente")]
        if self.suspended:
            parts.append(plural(self.suspended, "suspendue"))
        if self.closed:
            parts.append(plural(self.closed, "clôturée"))
        return parts

    @property
    def text(self) -> str:
        return " · ".join(self.parts())

    def listed(self, filters: SupplierFilters) -> int | None:
        """How many suppliers the list shows with `filters` when the header already says
        it (no filter, or a status filter alone); None otherwise."""
        if filters.category or filters.query:
            return None
        return {"": self.total, "non-conformes": self.non_compliant,
                "invitations": self.invited, "suspendues": self.suspended,
                "cloturees": self.closed}.get(filters.status)


_COUNTED_STATES = (RelationState.ACTIVE, RelationState.INVITED, RelationState.SUSPENDED,
                   RelationState.CLOSED)


def _counts_select() -> Any:
    """What the header is made of, from the stored standing of the client's relations:
    the relations in each state, and the active ones compliant today. Each count is a
    range of the covering index ix_relations_client_standing (the compliant ones, the two
    ranges of compliant_parts()), which SQLite counts without reading the entries' values:
    one pass with five filtered counts, which read them all, took it 2.6 times as long."""
    def count(*conditions: ColumnElement[bool]) -> Any:
        return (select(func.count()).where(Relation.client_id == CLIENT_ID, *conditions)
                .scalar_subquery())

    active = Relation.state == RelationState.ACTIVE.value
    compliant = [count(active, part) for part in compliant_parts(TODAY)]
    return select(*(count(Relation.state == state.value) for state in _COUNTED_STATES),
                  compliant[0] + compliant[1])


@lru_cache(maxsize=1)
def _categories_statement() -> Any:
    """The client's categories in order, one index seek each in ix_relations_client_id_category:
    each is the least one after the one before (a skip scan). DISTINCT read the index entry
    of every relation: 0.27 ms at 5,000 suppliers on SQLite, against 0.01 ms."""
    def least_after(previous: Any) -> Any:
        return select(func.min(Relation.category)).where(
            Relation.client_id == CLIENT_ID, Relation.category > previous).scalar_subquery()

    categories = select(least_after("").label("category")).cte("categories", recursive=True)
    categories = categories.union_all(
        select(least_after(categories.c.category)).where(categories.c.category.is_not(None)))
    return (select(categories.c.category).where(categories.c.category.is_not(None))
            .order_by(categories.c.category))


def client_categories(client: Company) -> list[str]:
    """The purchase categories the client used on its relations, for the filter's select."""
    return list(db.session.scalars(_categories_statement(), {"client_id": client.id}))


# ---- The statements: built once per shape, their values bound per request ----
#
# A listing's SQL depends on its shape (the status filter, whether a category or a
# search is given and of which kind, the sort), never on the values typed: these are
# parameters (_prepared()). Each shape's statement is built once per process
# (_statement() and its siblings), so a request neither rebuilds the large compliance
# construct nor hashes it again to find its compiled SQL in SQLAlchemy's cache: it only
# binds its values. A statement holds about 170 KiB: the
# caches keep the shapes last used (64 listings, 16 exports), a few MB per process.

CLIENT_ID = bindparam("client_id", type_=Integer)
LIMIT, OFFSET = bindparam("limit", type_=Integer), bindparam("offset", type_=Integer)
MAX_SEARCH_WORDS = 8


@dataclass(frozen=True)
class _Shape:
    """What decides a listing statement's SQL (see above)."""

    status: str = ""
    category: bool = False
    search: tuple[str, int] = ("", 0)      # ("number", 1), ("words", n) or nothing
    sort: SupplierSort = SupplierSort()
    counted: bool = True                   # the page's rows carry the total


def _search_terms(query: str) -> tuple[tuple[str, int], dict[str, str]]:
    """The search's kind and its LIKE patterns: a number (SIREN, SIRET of any establishment,
    or supplier code) or words (each in the name or the code, case and accents folded:
    "beta" finds "Bêta")."""
    text = (query or "").strip()[:100]
    if not text:
        return ("", 0), {}
    compact = text.replace(" ", "").replace(".", "")
    if ascii_digits(compact):
        return ("number", 1), {"search_prefix": f"{like_escape(compact)}%",
                               "search_code": f"%{like_escape(compact)}%"}
    words = text.split()[:MAX_SEARCH_WORDS]
    return ("words", len(words)), {f"search_word_{index}": f"%{like_escape(fold(word))}%"
                                   for index, word in enumerate(words)}


def _prepared(client: Company, today: date, filters: SupplierFilters, sort: SupplierSort,
              *, counted: bool = True) -> tuple[_Shape, dict[str, Any]]:
    """The listing's shape, and every value its statement binds (a shape that does not
    use one ignores it)."""
    search, patterns = _search_terms(filters.query)
    shape = _Shape(filters.status, bool(filters.category), search, sort, counted)
    return shape, {**sql_dates(today), "client_id": client.id, "category": filters.category,
                   "expiry_limit": today + timedelta(days=EXPIRY_WINDOW_DAYS), **patterns}


def _search_conditions(search: tuple[str, int]) -> list[ColumnElement[bool]]:
    kind, count = search
    if kind == "number":
        prefix = bindparam("search_prefix", type_=String)
        return [or_(Company.siren.like(prefix, escape="\\"),
                    exists().where(Establishment.company_id == Relation.supplier_id,
                                   Establishment.siret.like(prefix, escape="\\")),
                    Relation.code_key.like(bindparam("search_code", type_=String),
                                           escape="\\"))]
    name, folded_code = Relation.supplier_name_key, Relation.code_key
    conditions: list[ColumnElement[bool]] = []
    for index in range(count):
        pattern = bindparam(f"search_word_{index}", type_=String)
        conditions.append(or_(name.like(pattern, escape="\\"),
                              folded_code.like(pattern, escape="\\")))
    return conditions


def _shown_expiry(next_expiry: Any) -> Any:
    """The next expiry where the client reads the supplier's dossier: none before the
    supplier accepts, nor after closure (relations.visibility)."""
    return case((Relation.state.in_([state.value for state in READABLE_STATES]),
                 next_expiry), else_=None)


def _filter_conditions(shape: _Shape, figures: Any) -> list[ColumnElement[bool]]:
    """The shape's conditions on relations (`figures` only for _FIGURE_FILTERS); the client's
    own come from the figures, or from _page_first()."""
    state = Relation.state
    not_closed = state != RelationState.CLOSED.value
    conditions: list[ColumnElement[bool]] = []
    match shape.status:
        case "non-conformes":
            conditions += [state == RelationState.ACTIVE.value, ~compliant_on(TODAY)]
        case "expire-30-jours":
            conditions.append(_shown_expiry(figures.c.next_expiry)
                              <= bindparam("expiry_limit", type_=Date))
        case "jamais-depose":
            conditions += [not_closed, never_deposited()]
        case "invitations":
            conditions.append(state == RelationState.INVITED.value)
        case "suspendues":
            conditions.append(state == RelationState.SUSPENDED.value)
        case "cloturees":
            conditions.append(state == RelationState.CLOSED.value)
        case _:
            conditions.append(not_closed)
    if shape.category:
        conditions.append(Relation.category == bindparam("category", type_=String))
    return conditions + _search_conditions(shape.search)


_STATE_ORDER = case({RelationState.INVITED.value: 1, RelationState.ACTIVE.value: 2,
                     RelationState.SUSPENDED.value: 3, RelationState.CLOSED.value: 4},
                    value=Relation.state, else_=5)


# What reads the compliance figures of every relation it may show: these filters and
# sorts. The others (the stored standing is enough for "non conformes") find the page's
# relations first and compute the figures of those alone.
_FIGURE_FILTERS = frozenset({"expire-30-jours"})
_FIGURE_SORTS = frozenset({"conformite", "echeance"})


def _needs_every_figure(shape: _Shape) -> bool:
    return shape.status in _FIGURE_FILTERS or shape.sort.column in _FIGURE_SORTS


def _order_by(sort: SupplierSort, unmet: Any = None, expiry: Any = None) -> list[Any]:
    """The ORDER BY of `sort`; `unmet` and `expiry` only for the sorts of _FIGURE_SORTS."""
    keys: dict[str, Any] = {
        "nom": lambda: [Relation.supplier_name_key],
        "siren": lambda: [Company.siren],
        "code": lambda: [Relation.supplier_code.is_(None), Relation.supplier_code],
        "categorie": lambda: [Relation.category == "", Relation.category],
        "etat": lambda: [_STATE_ORDER],
        # Active ones by their number of problems, the others after them.
        "conformite": lambda: [Relation.state != RelationState.ACTIVE.value, unmet],
        "echeance": lambda: [expiry.is_(None), expiry],
        "modification": lambda: [Relation.changed_at],
    }
    chosen: list[Any] = keys[sort.column]()
    # "Empty last" flags keep their direction; the values themselves turn around.
    ordered = [key if index == 0 and len(chosen) > 1 else
               (key.desc() if sort.descending else key.asc())
               for index, key in enumerate(chosen)]
    tie = Relation.id.desc() if sort.descending else Relation.id.asc()
    # Then by name (which the name sort already is: it reads its index in order).
    by_name = [] if sort.column == "nom" else [Relation.supplier_name_key]
    return [*ordered, *by_name, tie]


def _shown_figures(unmet: Any, next_expiry: Any) -> tuple[Any, Any]:
    """The row's `unmet` and `next_expiry`: only active relations get a badge (the others
    count no problem), and the expiry shows where the client reads the dossier."""
    return (case((Relation.state == RelationState.ACTIVE.value, unmet), else_=0).label("unmet"),
            _shown_expiry(next_expiry).label("next_expiry"))


def _row_columns(unmet: Any, expiry: Any) -> list[Any]:
    return [Relation.id.label("relation_id"), Relation.supplier_id, Company.name,
            Company.siren, Relation.supplier_code, Relation.category, Relation.state,
            unmet, expiry, Relation.changed_at]


def _client_figures(shape: _Shape) -> Any:
    """The figures of the client's relations that `shape` may show. "Expire sous 30 jours"
    needs those of the relations whose standing holds until the window's end at most:
    a relation's next expiry is never before the day its standing lapses."""
    conditions = [Relation.client_id == CLIENT_ID]
    if shape.status == "expire-30-jours":
        conditions.append(Relation.held_until <= bindparam("expiry_limit", type_=Date))
    return compliance_select(*conditions).cte("compliance")


def _rows_statement(shape: _Shape, figures: Any) -> Any:
    """Every matching row with its figures, `figures` covering all the client's relations."""
    unmet, expiry = _shown_figures(figures.c.unmet, figures.c.next_expiry)
    return (
        select(*_row_columns(unmet, expiry))
        # From the figures (already the client's relations only) to each relation by its
        # key: with no other way into `relations`, SQLite does not scan the figures
        # once per relation.
        .select_from(figures)
        .join(Relation, Relation.id == figures.c.relation_id)
        .join(Company, Company.id == Relation.supplier_id)
        .where(*_filter_conditions(shape, figures))
        .order_by(*_order_by(shape.sort, unmet, expiry)))


@dataclass(frozen=True)
class _Listing:
    """A shape's statements: one page of rows (with the total when the shape is counted),
    and the count alone for a page past the end."""

    page: Any
    counting: Any


@lru_cache(maxsize=64)
def _statement(shape: _Shape) -> _Listing:
    """The listing of `shape`: the figures of every relation it may show when it orders or
    filters on them, else those of its page alone (_page_first())."""
    if not _needs_every_figure(shape):
        return _page_first(shape)
    base = _rows_statement(shape, _client_figures(shape))
    statement = base.limit(LIMIT).offset(OFFSET)
    if shape.counted:
        statement = statement.add_columns(func.count().over().label("total"))
    return _Listing(statement, select(func.count()).select_from(base.order_by(None).subquery()))


def _page_first(shape: _Shape) -> _Listing:
    """One page of rows when neither the filter nor the sort reads the figures: the
    page's relations are found first, then the figures of those alone are computed, so a
    search typed in a list of 5,000 suppliers costs the figures of one page. The total
    is a count of its own, which the database runs once (an uncorrelated scalar
    subquery): a window count over the matching rows cost SQLite twice the page."""
    matching = select(Relation.id).where(Relation.client_id == CLIENT_ID,
                                         *_filter_conditions(shape, None))
    if shape.search[0] == "number" or shape.sort.column == "siren":
        # The SIREN is the company's; names come from relations.supplier_name_key.
        matching = matching.join(Company, Company.id == Relation.supplier_id)
    counting = select(func.count()).select_from(matching.subquery())
    page = matching.order_by(*_order_by(shape.sort)).limit(LIMIT).offset(OFFSET).cte("page")
    # A relation its stored standing says is compliant today has no problem, and its next
    # expiry is the day its standing lapses: only the others need their figures.
    computed = compliance_select(Relation.id.in_(select(page.c.id)),
                                 ~compliant_on(TODAY)).cte("compliance")
    unmet, expiry = _shown_figures(
        func.coalesce(computed.c.unmet, 0),
        case((computed.c.relation_id.is_(None), Relation.held_until),
             else_=computed.c.next_expiry))
    total = [counting.scalar_subquery().label("total")] if shape.counted else []
    statement = (select(*_row_columns(unmet, expiry), *total)
                 .select_from(page)
                 .join(Relation, Relation.id == page.c.id)
                 .join(Company, Company.id == Relation.supplier_id)
                 .outerjoin(computed, computed.c.relation_id == Relation.id)
                 .order_by(*_order_by(shape.sort)))
    return _Listing(statement, counting)


@lru_cache(maxsize=1)
def _counts_statement() -> Any:
    return _counts_select()


@lru_cache(maxsize=16)
def _export_statement(shape: _Shape) -> Any:
    return _rows_statement(shape, _client_figures(shape)).limit(LIMIT)


def supplier_counts(client: Company, today: date) -> SupplierCounts:
    """The counts header, in one aggregate statement over the client's stored standings."""
    active, invited, suspended, closed, compliant = (int(value) for value in db.session.execute(
        _counts_statement(), {**sql_dates(today), "client_id": client.id}).one())
    return SupplierCounts(total=active + invited + suspended, compliant=compliant,
                          non_compliant=active - compliant, invited=invited,
                          suspended=suspended, closed=closed)


def _row(values: Any) -> SupplierRow:
    # The columns of _row_columns() by position (a total may follow them): reading a Row's
    # fields by name cost 0.16 ms of a 50-row page.
    (relation_id, supplier_id, name, siren, code, category, state, unmet, next_expiry,
     changed_at) = values[:10]
    return SupplierRow(relation_id, supplier_id, name, siren, code, category, state,
                       int(unmet or 0), next_expiry, changed_at)


def suppliers_page(client: Company, today: date, filters: SupplierFilters | None = None,
                   sort: SupplierSort | None = None, page: int = 1, per_page: int = 50,
                   *, total: int | None = None) -> Page:
    """One page of the client's suppliers (SupplierRow items) with the total, in one statement.

    The statement counts the filtered rows too, unless the caller knows their `total`
    (suppliers_listing(), from the counts header). A sort on the figures, or
    "expire sous 30 jours", computes those of every relation it may show; any
    other finds the page's rows first and computes theirs (_page_first). A page
    past the end costs a second statement for the total (when not given) and one
    more for the last page.
    """
    filters, sort = filters or SupplierFilters(), sort or SupplierSort()
    shape, params = _prepared(client, today, filters, sort, counted=total is None)
    statements = _statement(shape)
    params["limit"] = per_page
    page = max(1, page)

    def page_rows(number: int) -> list[Any]:
        return list(db.session.execute(statements.page,
                                       {**params, "offset": (number - 1) * per_page}).all())

    rows = page_rows(page)
    if total is None:
        if rows:
            total = rows[0].total
        elif page == 1:
            total = 0
        else:
            total = db.session.scalar(statements.counting, params) or 0
    if not rows and page > 1:
        last = max(1, math.ceil(total / per_page))
        if page > last:
            page = last
            rows = page_rows(page)
    return Page([_row(row) for row in rows], total, page, per_page, filters.query)


def suppliers_listing(client: Company, today: date, filters: SupplierFilters | None = None,
                      sort: SupplierSort | None = None, page: int = 1, per_page: int = 50
                      ) -> tuple[Page, SupplierCounts]:
    """suppliers_page() and the counts header: one statement more, an aggregate over the
    client's relations that reads no document. (Joined to the page's statement, it
    made PostgreSQL plan the page eight times slower.) When the header already says
    how many rows the filters list, the page's statement does not count them again
    (at 5,000 suppliers, half of that statement's time on PostgreSQL)."""
    counts = supplier_counts(client, today)
    return (suppliers_page(client, today, filters, sort, page, per_page,
                           total=counts.listed(filters or SupplierFilters())), counts)


def supplier_rows(client: Company, today: date, filters: SupplierFilters | None = None,
                  sort: SupplierSort | None = None, limit: int | None = None
                  ) -> list[SupplierRow]:
    """Every row of the list (for the exports), up to `limit` (EXPORT_ROW_CAP), in one statement."""
    shape, params = _prepared(client, today, filters or SupplierFilters(),
                              sort or SupplierSort())
    params["limit"] = EXPORT_ROW_CAP if limit is None else limit
    return [_row(row) for row in db.session.execute(_export_statement(shape), params)]
