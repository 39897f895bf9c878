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
    from ..relations.figures import refresh_suppliers

    refresh_suppliers([company.id])


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
                  establishments: tuple[Establishment, ...] = (),
                  accepted_by: User | None = None):
    """A relation in `state`, through the same transitions a person would make.

    `by` is the client's user who invites (and suspends or closes);
    `accepted_by` the supplier's user who accepts (None: not named).
    """
    from ..relations import services as relations

    relation, _ = relations.open_relation(
        client, supplier, by, contact_email=contact_email, establishments=establishments,
        references=relations.References(supplier_code=supplier_code, category=category))
    if state in ("active", "suspended"):
        relations.accept(relation, accepted_by)
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
    `start`. Built on the bulk helpers of hiveo/demo/bulk.py (relations with
    the history lines their transitions write): a fast path for tests and the
    benchmark. Returns the relations' ids, in row order.
    """
    from datetime import timedelta

    from ..models import Relation, RelationState
    from ..relations.requirements import ensure_default_requirements
    from .bulk import add_companies_bulk, add_relations_bulk

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
    ids = add_companies_bulk([(siren, f"{label} {start + index:05d}")
                              for index, siren in enumerate(sirens)])
    reasons = {RelationState.SUSPENDED: "Contrat en pause", RelationState.CLOSED: "Contrat terminé"}
    rows = []
    for index, siren in enumerate(sirens):
        state = RelationState(states[index % len(states)])
        rows.append({"supplier_id": ids[siren], "state": state, "state_reason": reasons.get(state),
                     "supplier_code": f"F{start + index:05d}",
                     "category": categories[index % len(categories)],
                     "contact_email": f"contact{start + index}@fournisseur.example"})
    add_relations_bulk(client, rows)
    documents: list[dict] = []
    issued = today - timedelta(days=20)
    for index, siren in enumerate(sirens):
        dossier = dossiers[index % len(dossiers)]
        for doc_type in LEGAL_DOSSIER:
            if dossier == "none" or (dossier == "missing" and doc_type == "URSSAF_VIGILANCE"):
                continue
            end = (today + timedelta(days=10)
                   if dossier == "expiring" and doc_type == "URSSAF_VIGILANCE" else None)
            documents.append({"company_id": ids[siren], "doc_type": doc_type,
                              "establishment_id": None, "issue_date": issued,
                              "validity_end": end})
    if documents:
        from ..dossier.services import add_current_bulk
        from ..dossier.storage import storage
        from .pdfgen import make_pdf

        stored = storage().save_chunks([make_pdf("Document", [client.name])])
        add_current_bulk(client.id, documents, stored)
    db.session.flush()
    relation_of = dict(db.session.execute(
        select(Relation.supplier_id, Relation.id).where(Relation.client_id == client.id)).all())
    return [relation_of[ids[siren]] for siren in sirens]
