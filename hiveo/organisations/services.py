"""Companies, establishments and memberships, without HTTP."""

from __future__ import annotations

import functools
import math
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from .. import reads
from ..extensions import db
from ..identifiers import InvalidIdentifier, format_siren, validate_siren, validate_siret
from ..models import Company, Establishment, Membership, Role, User

if TYPE_CHECKING:
    from ..security import SignedInUser


class OrganisationError(ValueError):
    """A refusal whose message is meant for a person (French)."""


def fold(text: str) -> str:
    """Lower case without accents, for searching as people type."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def search_text_for(name: str, siret: str, postal_code: str, city: str) -> str:
    return " ".join(part for part in (fold(name), siret, postal_code, fold(city)) if part)


def create_company(siren: str, name: str) -> Company:
    try:
        number = validate_siren(siren)
    except InvalidIdentifier as error:
        raise OrganisationError(str(error)) from None
    name = (name or "").strip()
    if not name:
        raise OrganisationError("Le nom de l'entreprise est obligatoire.")
    if db.session.scalar(select(Company.id).where(Company.siren == number)) is not None:
        raise OrganisationError(f"L'entreprise de SIREN {format_siren(number)} existe déjà.")
    company = Company(siren=number, name=name[:200])
    db.session.add(company)
    db.session.flush()
    return company


def add_establishment(
    siret: str,
    name: str,
    *,
    address: str = "",
    postal_code: str = "",
    city: str = "",
    company: Company | None = None,
) -> Establishment:
    """Add an establishment to the company its SIRET names (or to `company`)."""
    try:
        number = validate_siret(siret, siren=company.siren if company else None)
    except InvalidIdentifier as error:
        raise OrganisationError(str(error)) from None
    if company is None:
        company = db.session.scalar(select(Company).where(Company.siren == number[:9]))
        if company is None:
            raise OrganisationError(
                f"Aucune entreprise de SIREN {format_siren(number[:9])} n'existe : "
                "créez-la d'abord."
            )
    name = (name or "").strip()
    if not name:
        raise OrganisationError("Le nom de l'établissement est obligatoire.")
    if db.session.scalar(select(Establishment.id).where(Establishment.siret == number)):
        raise OrganisationError(f"L'établissement de SIRET {number} existe déjà.")
    establishment = Establishment(
        company_id=company.id,
        siret=number,
        name=name[:200],
        address=address.strip()[:300],
        postal_code=postal_code.strip()[:10],
        city=city.strip()[:120],
        search_text=search_text_for(name, number, postal_code.strip(), city.strip()),
    )
    db.session.add(establishment)
    db.session.flush()
    return establishment


def add_member(user: User, company: Company, role: str) -> Membership:
    if role not in (Role.ADMIN, Role.MEMBER):
        raise OrganisationError("Le rôle doit être « admin » ou « member ».")
    existing = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.company_id == company.id
        )
    )
    if existing is not None:
        existing.role = role
        return existing
    membership = Membership(user_id=user.id, company_id=company.id, role=role)
    db.session.add(membership)
    db.session.flush()
    return membership


@dataclass(frozen=True)
class CompanyRef:
    """The few facts of a company that pages and services read, without the ORM's weight."""

    id: int
    siren: str
    name: str


@dataclass(frozen=True)
class CompanyAccess:
    """A company seen by one of its members."""

    company: CompanyRef
    role: str
    # The company's change counter (hiveo/fragments.py), and whether it has any
    # provider account: a company page without one needs no sync queries.
    data_version: int | None = None
    has_provider_links: bool = True

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


# Every page runs these: plain SQL through the driver (hiveo/reads.py).
# The columns of a membership, as membership_from_row() reads them; the user loader
# (hiveo/security.py) selects them too, with the user's own.
MEMBERSHIP_COLUMNS = (
    "c.id AS company_id, c.siren, c.name AS company_name, c.data_version, m.role, "
    "EXISTS (SELECT 1 FROM provider_links l WHERE l.company_id = c.id) AS has_links"
)
_MEMBERSHIPS = reads.Query(
    f"SELECT {MEMBERSHIP_COLUMNS} FROM companies c "
    "JOIN memberships m ON m.company_id = c.id "
    "WHERE m.user_id = :user_id ORDER BY c.name, c.id"
)
_ESTABLISHMENT_COUNTS = reads.Query(
    "SELECT c.id, (SELECT count(*) FROM establishments e WHERE e.company_id = c.id) AS n "
    "FROM companies c JOIN memberships m ON m.company_id = c.id WHERE m.user_id = :user_id"
)


@dataclass(frozen=True)
class MembershipRef:
    """One of the user's companies, the user's role in it, and what its pages need first."""

    company: CompanyRef
    role: str
    data_version: int
    has_provider_links: bool


def membership_from_row(row) -> MembershipRef:
    return MembershipRef(CompanyRef(row.company_id, row.siren, row.company_name), row.role,
                         row.data_version, bool(row.has_links))


def memberships_of(user: User | SignedInUser) -> tuple[MembershipRef, ...]:
    """The user's companies by name, with role and data version; nothing is counted.

    The signed-in user arrives with them (hiveo/security.py); any other user
    (an ORM row, on the command line) costs one query.
    """
    if not isinstance(user, User):
        return user.memberships
    return tuple(membership_from_row(row)
                 for row in reads.rows(_MEMBERSHIPS, {"user_id": user.id}))


def companies_of(user: User | SignedInUser) -> list[CompanyRef]:
    """The user's companies, by name: for choosing one (no counting of establishments)."""
    return [membership.company for membership in memberships_of(user)]


def company_access(user: User | SignedInUser, siren: str) -> CompanyAccess | None:
    """The company and the user's role in it; None for outsiders."""
    for membership in memberships_of(user):
        if membership.company.siren == siren:
            return CompanyAccess(membership.company, membership.role, membership.data_version,
                                 membership.has_provider_links)
    return None


@dataclass(frozen=True)
class OrganisationRow:
    company: CompanyRef
    role: str
    establishment_count: int


def organisations_of(user: User | SignedInUser, memberships: tuple[MembershipRef, ...]
                     ) -> list[OrganisationRow]:
    """The rows of "Gérer mes organisations": each membership and its establishment count."""
    if not memberships:
        return []
    counts = {row.id: row.n for row in reads.rows(_ESTABLISHMENT_COUNTS, {"user_id": user.id})}
    return [OrganisationRow(m.company, m.role, counts.get(m.company.id, 0))
            for m in memberships]


@dataclass(frozen=True)
class Page:
    """One page of a longer list, and where it sits in it."""

    items: list
    total: int
    page: int
    per_page: int
    query: str

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.page * self.per_page, self.total)


def like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_terms(query: str) -> list[str]:
    """Words to find in name, SIRET, postal code or city; a typed SIRET keeps its spaces out."""
    text = (query or "").strip()[:100]
    compact = text.replace(" ", "").replace(".", "")
    if compact.isdigit():
        return [compact]
    return [fold(word) for word in text.split() if word][:8]


@functools.cache
def _statement(sql: str) -> reads.Query:
    """One Query per distinct statement (searches differ only in their number of words)."""
    return reads.Query(sql)


def establishments_page(
    company: CompanyRef | Company, *, query: str = "", page: int = 1, per_page: int = 50,
    include_closed: bool = False,
) -> Page:
    """One page of the company's establishments (rows with attributes), in two queries.

    (A window count in the same query would make SQLite read every matching
    row before the LIMIT; the separate count reads only the index.)
    """
    terms = search_terms(query)
    where = " AND ".join(
        ["company_id = :company_id"]
        + ([] if include_closed else ["closed_at IS NULL"])
        + [f"search_text LIKE :term{index} ESCAPE '\\'" for index in range(len(terms))]
    )
    params: dict[str, object] = {"company_id": company.id}
    params.update({f"term{index}": f"%{like_escape(term)}%" for index, term in enumerate(terms)})
    total = reads.scalar(_statement(f"SELECT count(*) FROM establishments WHERE {where}"),
                         params) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = reads.rows(
        _statement("SELECT id, siret, name, address, postal_code, city, closed_at "
                   "FROM establishments "
                   f"WHERE {where} ORDER BY siret LIMIT :limit OFFSET :offset"),
        {**params, "limit": per_page, "offset": (page - 1) * per_page},
    )
    return Page(rows, total, page, per_page, (query or "").strip()[:100])


def _establishment_of(company: CompanyRef | Company, siret: str) -> Establishment:
    establishment = db.session.scalar(select(Establishment).where(
        Establishment.company_id == company.id, Establishment.siret == siret))
    if establishment is None:
        raise OrganisationError(f"L'établissement de SIRET {siret} n'existe pas dans "
                                "cette entreprise.")
    return establishment


def update_establishment(company: CompanyRef | Company, siret: str, *, name: str,
                         address: str = "", postal_code: str = "", city: str = ""
                         ) -> Establishment:
    """Change what people call an establishment and where it is; its SIRET never changes."""
    establishment = _establishment_of(company, siret)
    name = (name or "").strip()
    if not name:
        raise OrganisationError("Le nom de l'établissement est obligatoire.")
    establishment.name = name[:200]
    establishment.address = (address or "").strip()[:300]
    establishment.postal_code = (postal_code or "").strip()[:10]
    establishment.city = (city or "").strip()[:120]
    establishment.search_text = search_text_for(establishment.name, establishment.siret,
                                                establishment.postal_code, establishment.city)
    return establishment


def close_establishment(company: CompanyRef | Company, siret: str, when) -> Establishment:
    """Mark an establishment closed: kept with its documents, hidden from lists by default."""
    establishment = _establishment_of(company, siret)
    if establishment.closed_at is not None:
        raise OrganisationError("Cet établissement est déjà fermé.")
    establishment.closed_at = when
    return establishment


def reopen_establishment(company: CompanyRef | Company, siret: str) -> Establishment:
    establishment = _establishment_of(company, siret)
    if establishment.closed_at is None:
        raise OrganisationError("Cet établissement n'est pas fermé.")
    establishment.closed_at = None
    return establishment
