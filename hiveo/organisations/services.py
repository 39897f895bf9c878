"""Companies, establishments and memberships, without HTTP."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from ..core.audit import audit
from ..core.inputs import ascii_digits
from ..extensions import db
from ..identifiers import InvalidIdentifier, format_siren, validate_siren, validate_siret
from ..models import Company, Establishment, Membership, Relation, Role, User, name_key
from ..relations.figures import refresh_suppliers
from ..relations.requirements import ensure_default_requirements


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
    # Establishment-level requirements ask each open establishment: the standing follows.
    refresh_suppliers([company.id])
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
class OrganisationRow:
    company: Company
    role: str
    establishment_count: int


def organisations_of(memberships: list[Membership]) -> list[OrganisationRow]:
    """The rows of "Gérer mes organisations": each membership and its establishment count.

    The counts are one aggregate query, whatever the number of companies.
    """
    if not memberships:
        return []
    counts = dict(db.session.execute(
        select(Establishment.company_id, func.count(Establishment.id))
        .where(Establishment.company_id.in_([m.company_id for m in memberships]))
        .group_by(Establishment.company_id)
    ).all())
    return [OrganisationRow(m.company, m.role, counts.get(m.company_id, 0))
            for m in memberships]


@dataclass(frozen=True)
class Page:
    """One page of a longer list, and where it sits in it."""

    items: Sequence[Any]
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
    if ascii_digits(compact):
        return [compact]
    return [fold(word) for word in text.split() if word][:8]


def establishments_page(
    company: Company, *, query: str = "", page: int = 1, per_page: int = 50,
    include_closed: bool = False,
) -> Page:
    """One page of the company's establishments (rows with attributes), in one statement.

    The total comes from an uncorrelated subquery, which both databases run
    once; a window count would make SQLite read every matching row before the
    LIMIT. A page past the end costs a second statement, for the last page.
    """
    where = [Establishment.company_id == company.id, *establishment_filter(query)]
    if not include_closed:
        where.append(Establishment.closed_at.is_(None))
    total_column = (select(func.count(Establishment.id)).where(*where)
                    .scalar_subquery().label("total"))
    statement = (
        select(Establishment.id, Establishment.siret, Establishment.name, Establishment.address,
               Establishment.postal_code, Establishment.city, Establishment.closed_at,
               total_column)
        .where(*where).order_by(Establishment.siret).limit(per_page)
    )
    page = max(1, page)
    rows = db.session.execute(statement.offset((page - 1) * per_page)).all()
    if rows:
        total = rows[0].total
    elif page == 1:
        total = 0
    else:
        total = db.session.scalar(select(func.count(Establishment.id)).where(*where)) or 0
        last = max(1, math.ceil(total / per_page))
        if page > last:
            page = last
            rows = db.session.execute(statement.offset((page - 1) * per_page)).all()
    return Page(rows, total, page, per_page, (query or "").strip()[:100])


def establishment_filter(query: str) -> list:
    """The conditions on establishments that a search for `query` adds (none when empty)."""
    return [
        Establishment.search_text.like(f"%{like_escape(term)}%", escape="\\")
        for term in search_terms(query)
    ]


def _establishment_of(company: Company, siret: str) -> Establishment:
    establishment = db.session.scalar(select(Establishment).where(
        Establishment.company_id == company.id, Establishment.siret == siret))
    if establishment is None:
        raise OrganisationError(f"L'établissement de SIRET {siret} n'existe pas dans "
                                "cette entreprise.")
    return establishment


def update_establishment(company: Company, siret: str, *, name: str,
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


def close_establishment(company: Company, siret: str, when) -> Establishment:
    """Mark an establishment closed: kept with its documents, hidden from lists by default."""
    establishment = _establishment_of(company, siret)
    if establishment.closed_at is not None:
        raise OrganisationError("Cet établissement est déjà fermé.")
    establishment.closed_at = when
    # Establishment-level requirements ask each open establishment: the standing follows.
    refresh_suppliers([company.id])
    return establishment


def reopen_establishment(company: Company, siret: str) -> Establishment:
    establishment = _establishment_of(company, siret)
    if establishment.closed_at is None:
        raise OrganisationError("Cet établissement n'est pas fermé.")
    establishment.closed_at = None
    # Establishment-level requirements ask each open establishment: the standing follows.
    refresh_suppliers([company.id])
    return establishment


# --- clients and the operators' list of companies ---

def make_client(siren: str, name: str = "", *, by: User | None = None) -> tuple[Company, bool]:
    """A company that collects its suppliers' documents: created from its SIREN and
    name if it is not on the portal, else marked as a client. Returns (company, created).

    The client gets the default requirements (the legal dossier) if it had none.
    The operators' page and `flask companies add --client` both come here.
    """
    try:
        number = validate_siren(siren)
    except InvalidIdentifier as error:
        raise OrganisationError(str(error)) from None
    company = db.session.scalar(select(Company).where(Company.siren == number))
    created = company is None
    if company is None:
        company = create_company(number, name)
    elif company.is_client:
        return company, False
    company.is_client = True
    ensure_default_requirements(company)
    audit(company.id, by, "company.made_client", created=created)
    return company, created


COMPANY_ROLES = {"client": "client", "supplier": "fournisseur", "both": "les deux"}


@dataclass(frozen=True)
class CompanyRow:
    id: int
    siren: str
    name: str
    is_client: bool
    supplies: bool
    members: int
    admins: int

    @property
    def role(self) -> str:
        """"client", "supplier" or "both": a client unless it has no client flag; a
        supplier if some client follows it or it is not a client."""
        if self.is_client and self.supplies:
            return "both"
        return "client" if self.is_client else "supplier"

    @property
    def role_label(self) -> str:
        return COMPANY_ROLES[self.role]


def companies_page(*, query: str = "", role: str = "", page: int = 1,
                   per_page: int = 50) -> Page:
    """One page of every company with its role and member counts, in two statements."""
    members = (select(func.count(Membership.id)).where(Membership.company_id == Company.id)
               .correlate(Company).scalar_subquery())
    admins = (select(func.count(Membership.id))
              .where(Membership.company_id == Company.id, Membership.role == Role.ADMIN.value)
              .correlate(Company).scalar_subquery())
    supplies = (select(Relation.id).where(Relation.supplier_id == Company.id)
                .correlate(Company).exists())
    where: list[Any] = []
    text = (query or "").strip()[:100]
    compact = text.replace(" ", "")
    if compact and ascii_digits(compact):
        where.append(Company.siren.like(f"{like_escape(compact)}%", escape="\\"))
    elif text:
        # The folded name: "electricite" finds "Électricité" (models.name_key).
        where.append(Company.name_key.like(f"%{like_escape(name_key(text))}%", escape="\\"))
    if role == "client":
        where.append(Company.is_client.is_(True))
    elif role == "supplier":
        where.append(supplies | Company.is_client.is_(False))
    elif role == "both":
        where.extend([Company.is_client.is_(True), supplies])
    total = db.session.scalar(select(func.count(Company.id)).where(*where)) or 0
    last = max(1, math.ceil(total / per_page))
    page = min(max(1, page), last)
    rows = [CompanyRow(**row._mapping) for row in db.session.execute(
        select(Company.id, Company.siren, Company.name, Company.is_client,
               supplies.label("supplies"), members.label("members"), admins.label("admins"))
        .where(*where).order_by(Company.name_key, Company.id)
        .limit(per_page).offset((page - 1) * per_page))]
    return Page(rows, total, page, per_page, text)
