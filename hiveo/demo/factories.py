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


_bulk_siren_counter = itertools.count(1)

# What each bulk supplier's dossier holds, by the `dossiers` argument of add_suppliers_bulk.
LEGAL_DOSSIER = ("KBIS", "URSSAF_VIGILANCE", "LNTE")


def add_suppliers_bulk(client: Company, count: int, *, today: date,
                       states: tuple[str, ...] = ("active",),
                       dossiers: tuple[str, ...] = ("complete",),
                       categories: tuple[str, ...] = ("",),
                       label: str = "Fournisseur", start: int = 1) -> list[int]:
    """`count` supplier companies of `client` at once, each with one establishment.

    Row i takes the i-th item (cycling) of `states` (invited, active,
    suspended, closed), of `categories` and of `dossiers`: "complete" (the
    legal dossier valid on `today`), "expiring" (the same, the URSSAF
    attestation ending within 30 days), "missing" (no URSSAF attestation) or
    "none" (nothing ever deposited). Supplier codes are "F00001"... from
    `start`. Relations are inserted as rows (no history events): a fast path
    for tests, the demo and the benchmark, with the shapes the services make.
    Returns the relations' ids.
    """
    from datetime import UTC, datetime, time, timedelta

    from ..models import Relation, RelationState
    from ..relations.requirements import ensure_default_requirements

    client.is_client = True
    ensure_default_requirements(client)
    sirens: list[str] = []
    while len(sirens) < count:
        batch: list[str] = []
        while len(batch) < min(1000, count - len(sirens)):
            base = f"4{next(_bulk_siren_counter):07d}"
            batch.append(base + luhn.calc_check_digit(base))
        taken = set(db.session.scalars(select(Company.siren).where(Company.siren.in_(batch))))
        sirens += [siren for siren in batch if siren not in taken]
    ids: list[int] = []
    for first in range(0, count, 1000):
        chunk = sirens[first:first + 1000]
        rows = [{"siren": siren, "name": f"{label} {start + first + index:05d}"}
                for index, siren in enumerate(chunk)]
        inserted = dict(db.session.execute(
            insert(Company).returning(Company.siren, Company.id), rows).all())
        ids += [inserted[siren] for siren in chunk]
    establishments = []
    for index, (company_id, siren) in enumerate(zip(ids, sirens, strict=True)):
        street, postal_code, city = ADDRESSES[index % len(ADDRESSES)]
        siret = make_siret(siren, 1)
        name = f"{label} {start + index:05d} {city}"
        establishments.append({"company_id": company_id, "siret": siret, "name": name,
                               "address": street, "postal_code": postal_code, "city": city,
                               "search_text": search_text_for(name, siret, postal_code, city)})
    for first in range(0, count, 1000):
        db.session.execute(insert(Establishment), establishments[first:first + 1000])
    moment = datetime.combine(today, time(8, 0), tzinfo=UTC)
    relations = []
    documents: list[dict] = []
    issued = today - timedelta(days=20)
    for index, company_id in enumerate(ids):
        state = RelationState(states[index % len(states)])
        relations.append({
            "client_id": client.id, "supplier_id": company_id, "state": state.value,
            "state_reason": {RelationState.SUSPENDED: "Contrat en pause",
                             RelationState.CLOSED: "Contrat terminé"}.get(state),
            "supplier_code": f"F{start + index:05d}",
            "category": categories[index % len(categories)],
            "contact_email": f"contact{start + index}@fournisseur.example",
            "invited_at": moment, "state_changed_at": moment, "changed_at": moment,
            "created_at": moment,
            "accepted_at": None if state == RelationState.INVITED else moment,
        })
        dossier = dossiers[index % len(dossiers)]
        for doc_type in LEGAL_DOSSIER:
            if dossier == "none" or (dossier == "missing" and doc_type == "URSSAF_VIGILANCE"):
                continue
            end = (today + timedelta(days=10)
                   if dossier == "expiring" and doc_type == "URSSAF_VIGILANCE" else None)
            documents.append({"company_id": company_id, "doc_type": doc_type,
                              "establishment_id": None, "issue_date": issued,
                              "validity_end": end})
    relation_ids: list[int] = []
    for first in range(0, count, 1000):
        relation_ids += db.session.scalars(
            insert(Relation).returning(Relation.id, sort_by_parameter_order=True),
            relations[first:first + 1000]).all()
    if documents:
        from ..dossier.services import add_current_bulk
        from ..dossier.storage import storage
        from .pdfgen import make_pdf

        stored = storage().save_chunks([make_pdf("Document", [client.name])])
        add_current_bulk(ids[0], documents, stored)
    db.session.flush()
    return relation_ids
