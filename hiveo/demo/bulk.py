"""Bulk helpers: thousands of companies, relations and accounts in a few statements.

For the demo's generated suppliers, the benchmarks and large tests. Each inserts
rows with the shapes the services write (relations with the history lines the
transitions record), and the unique indexes still refuse what the rules refuse:
a fast path, not a second set of rules.
"""

from __future__ import annotations

from sqlalchemy import Table, insert, select

from ..extensions import db
from ..models import (
    Company,
    Establishment,
    Membership,
    Model,
    Relation,
    RelationEvent,
    RelationState,
    User,
    new_session_token,
    utcnow,
)
from ..organisations.services import search_text_for
from ..relations.figures import refresh_standing
from .companies import ADDRESSES, make_siret


def _table(model: type[Model]) -> Table:
    """The model's table: a Core INSERT of many rows is one executemany, no ORM bookkeeping."""
    return Model.metadata.tables[model.__tablename__]


def add_companies_bulk(rows: list[tuple[str, str]], *, establishment_label: str = "siège"
                       ) -> dict[str, int]:
    """Insert many companies (SIREN, name), each with one establishment, at once.

    Returns SIREN -> company id. The SIRENs must be valid and new (the unique
    index refuses a repeat); a fast path for the demo's and the benchmarks'
    suppliers, not a second set of rules.
    """
    now = utcnow()
    for start in range(0, len(rows), 1000):
        db.session.execute(insert(_table(Company)), [
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
        db.session.execute(insert(_table(Establishment)), establishments[start:start + 1000])
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
        db.session.execute(insert(_table(Relation)), values[start:start + 1000])
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
        db.session.execute(insert(_table(RelationEvent)), events[start:start + 1000])
    db.session.flush()
    refresh_standing(client_id=client.id)


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
        db.session.execute(insert(_table(User)), values[start:start + 1000])
    addresses = list(emails.values())
    user_ids: dict[str, int] = {}
    for start in range(0, len(addresses), 1000):
        user_ids.update(db.session.execute(select(User.email, User.id).where(
            User.email.in_(addresses[start:start + 1000]))).all())
    memberships = [{"user_id": user_ids[emails[siren]], "company_id": company_id,
                    "role": "admin", "created_at": now}
                   for siren, company_id in company_ids.items()]
    for start in range(0, len(memberships), 1000):
        db.session.execute(insert(_table(Membership)), memberships[start:start + 1000])
    db.session.flush()
