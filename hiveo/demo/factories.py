"""Small factory functions that build worlds: used by the tests, the demo and the benchmarks.

They go through the same services as the rest of the portal, except for the
bulk helpers, which insert thousands of rows at once (a retail chain's
establishments) with the same validated shapes.
"""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy import insert, select
from stdnum import luhn

from ..auth.services import create_user
from ..extensions import db
from ..models import Company, Document, Establishment, User
from ..organisations.services import add_member, create_company, search_text_for
from .companies import ADDRESSES, make_siret

_siren_counter = itertools.count(1)


def unused_siren() -> str:
    """A valid SIREN that no company in the database has yet."""
    while True:
        base = f"3{next(_siren_counter):07d}"
        siren = base + luhn.calc_check_digit(base)
        if db.session.scalar(select(Company.id).where(Company.siren == siren)) is None:
            return siren


def make_company(name: str = "Entreprise Test", *, siren: str | None = None,
                 establishments: int = 0) -> Company:
    company = create_company(siren or unused_siren(), name)
    if establishments:
        add_establishments(company, establishments)
    return company


def add_establishments(company: Company, count: int, *, label: str | None = None,
                       start: int = 1) -> None:
    """Insert `count` establishments in one statement per thousand rows."""
    label = label or company.name
    rows = []
    for number in range(start, start + count):
        street, postal_code, city = ADDRESSES[number % len(ADDRESSES)]
        name = f"{label} {city} {number}"
        siret = make_siret(company.siren, number)
        rows.append(
            {
                "company_id": company.id,
                "siret": siret,
                "name": name,
                "address": street,
                "postal_code": postal_code,
                "city": city,
                "search_text": search_text_for(name, siret, postal_code, city),
            }
        )
        if len(rows) == 1000:
            db.session.execute(insert(Establishment), rows)
            rows = []
    if rows:
        db.session.execute(insert(Establishment), rows)
    db.session.flush()


def make_user(email: str, *, name: str = "", password: str = "correct horse battery",
              operator: bool = False, profile: str = "default",
              memberships: tuple[tuple[Company, str], ...] = ()) -> User:
    user = create_user(email, password, name=name, is_operator=operator, profile=profile)
    for company, role in memberships:
        add_member(user, company, role)
    return user


def make_document(
    company: Company,
    doc_type: str,
    *,
    establishment: Establishment | None = None,
    issue_date: date,
    validity_start: date | None = None,
    validity_end: date | None = None,
    validated: bool = True,
    uploaded_by: User | None = None,
    content: bytes | None = None,
    replaces: Document | None = None,
) -> Document:
    """A document with a generated PDF, through the same service as uploads."""
    from ..dossier.catalogue import CATALOGUE
    from ..dossier.services import add_document
    from ..dossier.storage import storage
    from .pdfgen import make_pdf

    spec = CATALOGUE[doc_type]
    if content is None:
        owner = establishment.siret if establishment else company.siren
        content = make_pdf(
            spec.label,
            [company.name, f"Identifiant : {owner}", f"Délivré le {issue_date:%d/%m/%Y}"],
            footer="Document généré par hiveo (démonstration)",
        )
    stored = storage().save_chunks([content])
    return add_document(
        company=company,
        establishment=establishment,
        doc_type=spec,
        issue_date=issue_date,
        validity_start=validity_start,
        validity_end=validity_end,
        stored=stored,
        filename=f"{doc_type.lower()}.pdf",
        uploaded_by=uploaded_by,
        validated=validated,
        replaces=replaces,
    )


def add_documents_bulk(company: Company, rows: list[dict], *, content: bytes | None = None
                       ) -> None:
    """Insert many validated, current documents at once (benchmarks, large tests).

    Each row gives doc_type, establishment_id (or None), issue_date and
    optionally validity_end. All share one stored PDF. Single-occurrence slots
    must not repeat: this is a fast path, not a second set of rules.
    """
    from ..dossier.services import add_current_bulk
    from ..dossier.storage import storage
    from .pdfgen import make_pdf

    stored = storage().save_chunks([content or make_pdf("Document", [company.name])])
    add_current_bulk(company.id, rows, stored)


def make_relation(client: Company, supplier: Company, *, state: str = "active",
                  by: User | None = None, reason: str = "", supplier_code: str | None = None,
                  category: str = "", contact_email: str | None = None,
                  establishments: tuple[Establishment, ...] = ()):
    """A relation in `state`, through the same transitions a person would make."""
    from ..relations import services as relations

    relation, _ = relations.open_relation(
        client, supplier, by, contact_email=contact_email, establishments=establishments,
        references=relations.References(supplier_code=supplier_code, category=category))
    if state in ("active", "suspended"):
        relations.accept(relation, by)
    if state == "suspended":
        relations.suspend(relation, by, reason or "Contrat en pause")
    elif state == "closed":
        relations.close(relation, by, reason or "Contrat terminé")
    db.session.flush()
    return relation
