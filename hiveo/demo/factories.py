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
from ..models import (
    Company,
    Document,
    Establishment,
    Membership,
    Relation,
    RelationEvent,
    RelationState,
    User,
    new_session_token,
    utcnow,
)
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


def add_companies_bulk(rows: list[tuple[str, str]], *, establishment_label: str = "siège"
                       ) -> dict[str, int]:
    """Insert many companies (SIREN, name), each with one establishment, at once.

    Returns SIREN -> company id. The SIRENs must be valid and new (the unique
    index refuses a repeat); a fast path for the demo's and the benchmarks'
    suppliers, not a second set of rules.
    """
    now = utcnow()
    for start in range(0, len(rows), 1000):
        db.session.execute(insert(Company), [
            {"siren": siren, "name": name, "created_at": now}
            for siren, name in rows[start:start + 1000]])
    ids: dict[str, int] = {}
    sirens = [siren for siren, _name in rows]
    for start in range(0, len(sirens), 1000):
        ids.update(db.session.execute(select(Company.siren, Company.id).where(
            Company.siren.in_(sirens[start:start + 1000]))).all())
    establishments = []
    for number, (siren, name) in enumerate(rows):
        street, postal_code, city = ADDRESSES[number % len(ADDRESSES)]
        siret = make_siret(siren, 1)
        label = f"{name} — {establishment_label}"
        establishments.append({
            "company_id": ids[siren], "siret": siret, "name": label, "address": street,
            "postal_code": postal_code, "city": city, "created_at": now,
            "search_text": search_text_for(label, siret, postal_code, city)})
    for start in range(0, len(establishments), 1000):
        db.session.execute(insert(Establishment), establishments[start:start + 1000])
    db.session.flush()
    return ids


# The history lines each state's relation has, as relations.services writes them.
_EVENTS = {
    RelationState.INVITED: ("invited",),
    RelationState.ACTIVE: ("invited", "accepted"),
    RelationState.SUSPENDED: ("invited", "accepted", "suspended"),
    RelationState.CLOSED: ("invited", "closed"),
}


def add_relations_bulk(client: Company, rows: list[dict], *, by: User | None = None) -> None:
    """Insert many relations of `client` at once, with the history the services write.

    Each row gives supplier_id and optionally state (default active),
    state_reason (required for suspended and closed), supplier_code, category,
    contract_ref, contact_email. The client must already be a client with its
    requirements (make one relation through `make_relation` first, or call
    `ensure_default_requirements`). A fast path for the demo and the benchmarks:
    the unique indexes still refuse a second relation or a repeated code.
    """
    now = utcnow()
    values = []
    for row in rows:
        state = RelationState(row.get("state", RelationState.ACTIVE))
        reason = row.get("state_reason")
        if state in (RelationState.SUSPENDED, RelationState.CLOSED) and not reason:
            raise ValueError("a suspended or closed relation needs its reason")
        values.append({
            "client_id": client.id, "supplier_id": row["supplier_id"], "state": state.value,
            "state_reason": reason, "supplier_code": row.get("supplier_code"),
            "contract_ref": row.get("contract_ref", ""), "category": row.get("category", ""),
            "description": row.get("description", ""),
            "contact_email": row.get("contact_email"),
            "invited_by_id": by.id if by else None, "created_at": now, "invited_at": now,
            "accepted_at": now if state in (RelationState.ACTIVE, RelationState.SUSPENDED)
            else None,
            "state_changed_at": now, "changed_at": now})
    for start in range(0, len(values), 1000):
        db.session.execute(insert(Relation), values[start:start + 1000])
    states = {row["supplier_id"]: (RelationState(row.get("state", RelationState.ACTIVE)),
                                   row.get("state_reason")) for row in rows}
    supplier_ids = list(states)
    contacts = {row["supplier_id"]: row.get("contact_email") for row in rows}
    events: list[dict] = []
    for start in range(0, len(supplier_ids), 1000):
        for relation_id, supplier_id in db.session.execute(
                select(Relation.id, Relation.supplier_id).where(
                    Relation.client_id == client.id,
                    Relation.supplier_id.in_(supplier_ids[start:start + 1000]))):
            state, reason = states[supplier_id]
            for action in _EVENTS[state]:
                events.append({
                    "relation_id": relation_id, "user_id": by.id if by else None,
                    "action": action,
                    "reason": reason if action in ("suspended", "closed") else None,
                    "details": {"contact": contacts[supplier_id], "establishments": []}
                    if action == "invited" else {},
                    "created_at": now})
    for start in range(0, len(events), 1000):
        db.session.execute(insert(RelationEvent), events[start:start + 1000])
    db.session.flush()


def add_admins_bulk(company_ids: dict[str, int], *, password: str = "correct horse battery",
                    domain: str = "example.com") -> None:
    """One admin per company (SIREN -> id), `admin-<siren>@<domain>`, at once.

    The password is hashed once (the "fast" profile) and shared: benchmarks only.
    """
    from ..passwords import hash_password

    now = utcnow()
    password_hash = hash_password(password, "fast")
    emails = {siren: f"admin-{siren}@{domain}" for siren in company_ids}
    values = [{"email": email, "name": f"Admin {siren}", "password_hash": password_hash,
               "session_token": new_session_token(), "created_at": now}
              for siren, email in emails.items()]
    for start in range(0, len(values), 1000):
        db.session.execute(insert(User), values[start:start + 1000])
    addresses = list(emails.values())
    user_ids: dict[str, int] = {}
    for start in range(0, len(addresses), 1000):
        user_ids.update(db.session.execute(select(User.email, User.id).where(
            User.email.in_(addresses[start:start + 1000]))).all())
    memberships = [{"user_id": user_ids[emails[siren]], "company_id": company_id,
                    "role": "admin", "created_at": now}
                   for siren, company_id in company_ids.items()]
    for start in range(0, len(memberships), 1000):
        db.session.execute(insert(Membership), memberships[start:start + 1000])
    db.session.flush()
