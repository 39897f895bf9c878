"""The one door for changes to relations (DOMAIN.md 5).

Each function locks the relation's row, checks that the change is allowed
from its present state, applies it and records a RelationEvent, in the
caller's transaction. Access (who may call what) is the views' business:
the client's admins invite, suspend, close, reactivate and edit references;
the supplier's admins accept, decline and share.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, insert, select

from ..dossier.catalogue import CATALOGUE
from ..extensions import db
from ..mail.outbox import enqueue
from ..models import (
    Company,
    Establishment,
    Membership,
    Relation,
    RelationEstablishment,
    RelationEvent,
    RelationShare,
    RelationState,
    Role,
    User,
    utcnow,
)
from .figures import refresh_standing
from .requirements import ensure_default_requirements, relation_rules

STATE_LABELS = {
    RelationState.INVITED: "invitation envoyée",
    RelationState.ACTIVE: "active",
    RelationState.SUSPENDED: "suspendue",
    RelationState.CLOSED: "clôturée",
}

# What each event is called in the history both sides read.
EVENT_LABELS = {
    "invited": "Invitation envoyée",
    "reinvited": "Invitation envoyée à nouveau",
    "accepted": "Invitation acceptée",
    "declined": "Invitation déclinée",
    "suspended": "Relation suspendue",
    "closed": "Relation clôturée",
    "reactivated": "Relation réactivée",
    "references": "Références modifiées",
    "scope": "Établissements suivis modifiés",
    "shared": "Documents partagés modifiés",
    "reminder": "Relance envoyée",
}

MAX_REASON = 500


class RelationError(ValueError):
    """A change the portal refuses, in French; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def state_label(state: str) -> str:
    return STATE_LABELS[RelationState(state)]


@dataclass(frozen=True)
class References:
    """The client's own references for one supplier."""

    supplier_code: str | None = None
    contract_ref: str = ""
    category: str = ""
    description: str = ""
    tracking_end: date | None = None

    def cleaned(self) -> References:
        code = (self.supplier_code or "").strip() or None
        return References(code, self.contract_ref.strip(), self.category.strip(),
                          self.description.strip(), self.tracking_end)

    def problems(self) -> dict[str, str]:
        """Field name -> French message; empty when the references are acceptable."""
        errors: dict[str, str] = {}
        limits = {"supplier_code": 40, "contract_ref": 80, "category": 80, "description": 2000}
        for name, limit in limits.items():
            value = getattr(self, name) or ""
            if len(value) > limit:
                errors[name] = f"{limit} caractères au plus."
        return errors


def record(relation: Relation, user: User | None, action: str, *, reason: str | None = None,
           **details: Any) -> RelationEvent:
    """Add one line to the relation's history (both sides read it)."""
    event = RelationEvent(relation_id=relation.id, user_id=user.id if user else None,
                          action=action, reason=reason, details=details)
    db.session.add(event)
    relation.changed_at = utcnow()
    return event


def record_reminders(lines: Iterable[tuple[int, dict[str, Any]]]) -> int:
    """"Relance envoyée" lines for many relations, in one statement (the reminder run).

    Unlike record(), a reminder changes nothing either side made: the
    relation's `changed_at` (its "last change") stays as it was.
    """
    now = utcnow()
    rows = [{"relation_id": relation_id, "user_id": None, "action": "reminder",
             "reason": None, "details": details, "created_at": now}
            for relation_id, details in lines]
    if rows:
        db.session.execute(insert(RelationEvent), rows)
    return len(rows)


def lock_relation(relation_id: int) -> Relation:
    """The relation, row-locked until the transaction ends (PostgreSQL)."""
    relation = db.session.scalar(
        select(Relation).where(Relation.id == relation_id)
        .with_for_update().execution_options(populate_existing=True))
    if relation is None:
        raise RelationError("Cette relation n'existe pas.")
    return relation


def admin_addresses(company_id: int) -> list[str]:
    """The e-mail addresses of a company's admins who can sign in (a suspended account
    can neither read the message's page nor act on it), in order."""
    return list(db.session.scalars(
        select(User.email).join(Membership, Membership.user_id == User.id)
        .where(Membership.company_id == company_id, Membership.role == Role.ADMIN.value,
               User.suspended_at.is_(None))
        .order_by(User.email)))


# The e-mail the supplier's admins get when the client changes the relation: subject and
# what it means for them (templates/mail/relation_change.*). Sent through the outbox, in
# the change's transaction: it leaves only if the change commits.
_CHANGE_MAIL = {
    "suspended": "{client} a suspendu sa relation avec {supplier}",
    "closed": "{client} a clôturé sa relation avec {supplier}",
    "reactivated": "{client} a réactivé sa relation avec {supplier}",
    "reinvited": "{client} vous invite à nouveau à partager vos documents sur hiveo",
}


# Changes mailed per relation in 24 hours: past it, a client switching a relation back and
# forth still changes it (and its history says so), but the supplier's inbox is spared.
MAX_CHANGE_MAILS = 4


def change_mail_allowed(relation: Relation) -> bool:
    """Whether the change just recorded on `relation` may still be mailed: at most
    MAX_CHANGE_MAILS changes in 24 hours, whether the client made them with the
    relation's buttons or re-invited through the invitation form."""
    recent = db.session.scalar(
        select(func.count()).select_from(RelationEvent).where(
            RelationEvent.relation_id == relation.id,
            RelationEvent.action.in_(tuple(_CHANGE_MAIL)),
            RelationEvent.created_at >= utcnow() - timedelta(hours=24))) or 0
    return recent <= MAX_CHANGE_MAILS  # this change's own line is among them


def _tell_supplier(relation: Relation, user: User | None, action: str,
                   reason: str | None = None) -> None:
    """E-mail the supplier's admins (or, with none yet, the relation's contact)."""
    if not change_mail_allowed(relation):
        return
    client = db.session.get(Company, relation.client_id)
    supplier = db.session.get(Company, relation.supplier_id)
    assert client is not None and supplier is not None
    recipients = admin_addresses(supplier.id) or (
        [relation.contact_email] if relation.contact_email else [])
    base_url = str(current_app.config["BASE_URL"]).rstrip("/")
    for recipient in recipients:
        enqueue("relation_change", recipient,
                _CHANGE_MAIL[action].format(client=client.name, supplier=supplier.name),
                "relation_change", reply_to=user.email if user else None, action=action,
                client=client.name, supplier=supplier.name,
                actor=user.name if user else None, reason=reason,
                link=f"{base_url}/organisations/{supplier.siren}/clients")


def relation_between(client_id: int, supplier_id: int) -> Relation | None:
    return db.session.scalar(select(Relation).where(Relation.client_id == client_id,
                                                    Relation.supplier_id == supplier_id))


def _check_references(client: Company, references: References,
                      relation_id: int | None = None) -> References:
    references = references.cleaned()
    problems = references.problems()
    if problems:
        name, message = next(iter(problems.items()))
        raise RelationError(message, name)
    if references.supplier_code:
        taken = db.session.scalar(
            select(Relation.id).where(Relation.client_id == client.id,
                                      Relation.supplier_code == references.supplier_code,
                                      Relation.id != (relation_id or 0)))
        if taken is not None:
            raise RelationError(
                f"Le code fournisseur «\u00a0{references.supplier_code}\u00a0» est déjà "
                "utilisé pour un autre de vos fournisseurs.", "supplier_code")
    return references


def _apply_references(relation: Relation, references: References) -> None:
    relation.supplier_code = references.supplier_code
    relation.contract_ref = references.contract_ref
    relation.category = references.category
    relation.description = references.description
    relation.tracking_end = references.tracking_end


def open_relation(client: Company, supplier: Company, user: User | None, *,
                  references: References = References(),
                  establishments: Iterable[Establishment] = (),
                  contact_email: str | None = None) -> tuple[Relation, bool]:
    """Invite `supplier` to follow `client`: a new relation, or a closed one reopened.

    Returns (relation, created). An invited, active or suspended relation is
    refused: the client already follows this supplier. The client becomes a
    client (is_client) and gets the default requirements if it had none.
    """
    if client.id == supplier.id:
        raise RelationError("Une entreprise ne peut pas être son propre fournisseur.", "siren")
    existing = relation_between(client.id, supplier.id)
    if existing is not None:
        existing = lock_relation(existing.id)
        if existing.state != RelationState.CLOSED:
            raise RelationError(
                f"{supplier.name} est déjà votre fournisseur "
                f"(relation {state_label(existing.state)}).", "siren")
    references = _check_references(client, references, existing.id if existing else None)
    if not client.is_client:
        client.is_client = True
    ensure_default_requirements(client)
    now = utcnow()
    created = existing is None
    relation = existing or Relation(client_id=client.id, supplier_id=supplier.id)
    _apply_references(relation, references)
    relation.state = RelationState.INVITED.value
    relation.state_reason = None
    relation.contact_email = contact_email
    relation.invited_by_id = user.id if user else None
    relation.invited_at = now
    relation.state_changed_at = now
    relation.accepted_at = None
    if created:
        db.session.add(relation)
    db.session.flush()
    set_scope(relation, user, establishments, record_change=False)
    record(relation, user, "invited" if created else "reinvited",
           contact=contact_email, establishments=[e.siret for e in establishments])
    return relation, created


def _transition(relation: Relation, action: str) -> Relation:
    relation = lock_relation(relation.id)
    if not can(relation, action):
        raise RelationError(_REFUSED_TRANSITIONS[action].format(
            state=state_label(relation.state)))
    return relation


_REFUSED_TRANSITIONS = {
    "accept": "Cette invitation n'attend plus de réponse (relation {state}).",
    "decline": "Cette invitation n'attend plus de réponse (relation {state}).",
    "suspend": "Seule une relation active peut être suspendue (relation {state}).",
    "close": "Cette relation est déjà clôturée.",
    "reactivate": "Seule une relation suspendue ou clôturée peut être réactivée "
                  "(relation {state}).",
}


# From which states each change is possible: the functions below and can() read it.
ALLOWED_FROM = {
    "accept": (RelationState.INVITED,),
    "decline": (RelationState.INVITED,),
    "suspend": (RelationState.ACTIVE,),
    "close": (RelationState.INVITED, RelationState.ACTIVE, RelationState.SUSPENDED),
    "reactivate": (RelationState.SUSPENDED, RelationState.CLOSED),
}


def can(relation: Relation, action: str) -> bool:
    """Whether `action` is possible from the relation's state, so that pages offer
    only what the service will accept."""
    return RelationState(relation.state) in ALLOWED_FROM[action]


def _reason(reason: str | None, *, required: bool) -> str | None:
    reason = (reason or "").strip()
    if required and not reason:
        raise RelationError("Indiquez la raison\u00a0: le fournisseur la lira.", "reason")
    if len(reason) > MAX_REASON:
        raise RelationError(f"{MAX_REASON} caractères au plus.", "reason")
    return reason or None


def _set_state(relation: Relation, state: RelationState, reason: str | None) -> None:
    relation.state = state.value
    relation.state_reason = reason
    relation.state_changed_at = utcnow()


def accept(relation: Relation, user: User | None) -> Relation:
    """The supplier accepts the client's invitation: the relation becomes active."""
    relation = _transition(relation, "accept")
    _set_state(relation, RelationState.ACTIVE, None)
    relation.accepted_at = utcnow()
    record(relation, user, "accepted")
    return relation


def decline(relation: Relation, user: User | None, reason: str | None = None) -> Relation:
    """The supplier declines: the relation is closed, with its reason if given."""
    relation = _transition(relation, "decline")
    reason = _reason(reason, required=False) or "Invitation déclinée par le fournisseur."
    _set_state(relation, RelationState.CLOSED, reason)
    record(relation, user, "declined", reason=reason)
    return relation


def suspend(relation: Relation, user: User | None, reason: str) -> Relation:
    relation = _transition(relation, "suspend")
    checked = _reason(reason, required=True)
    _set_state(relation, RelationState.SUSPENDED, checked)
    record(relation, user, "suspended", reason=checked)
    _tell_supplier(relation, user, "suspended", checked)
    return relation


def close(relation: Relation, user: User | None, reason: str) -> Relation:
    relation = _transition(relation, "close")
    checked = _reason(reason, required=True)
    _set_state(relation, RelationState.CLOSED, checked)
    record(relation, user, "closed", reason=checked)
    _tell_supplier(relation, user, "closed", checked)
    return relation


def reactivate(relation: Relation, user: User | None) -> Relation:
    """A suspended relation is active again at once; a closed one is invited anew.

    A closure ended the supplier's consent (or the supplier declined): the
    supplier accepts again before the client sees its dossier.
    """
    relation = _transition(relation, "reactivate")
    if relation.state == RelationState.SUSPENDED:
        _set_state(relation, RelationState.ACTIVE, None)
        record(relation, user, "reactivated")
        _tell_supplier(relation, user, "reactivated")
    else:
        _set_state(relation, RelationState.INVITED, None)
        relation.invited_at = utcnow()
        relation.accepted_at = None
        record(relation, user, "reinvited")
        _tell_supplier(relation, user, "reinvited")
    return relation


def update_references(relation: Relation, user: User | None, references: References) -> Relation:
    relation = lock_relation(relation.id)
    client = db.session.get(Company, relation.client_id)
    assert client is not None
    checked = _check_references(client, references, relation.id)
    before = _references_of(relation)
    _apply_references(relation, checked)
    after = _references_of(relation)
    changed = {key: after[key] for key in after if after[key] != before[key]}
    if "category" in changed:
        # Another category may follow another set of requirements.
        refresh_standing(relation_id=relation.id)
    if changed:
        record(relation, user, "references", changed=sorted(changed))
    return relation


def _references_of(relation: Relation) -> dict[str, Any]:
    return {"supplier_code": relation.supplier_code, "contract_ref": relation.contract_ref,
            "category": relation.category, "description": relation.description,
            "tracking_end": relation.tracking_end.isoformat() if relation.tracking_end else None}


def set_scope(relation: Relation, user: User | None, establishments: Iterable[Establishment],
              *, record_change: bool = True) -> None:
    """Narrow the relation to these establishments of the supplier; none: all of them."""
    chosen = list(establishments)
    for establishment in chosen:
        if establishment.company_id != relation.supplier_id:
            raise RelationError("Cet établissement n'appartient pas à ce fournisseur.", "siret")
    db.session.execute(delete(RelationEstablishment)
                       .where(RelationEstablishment.relation_id == relation.id))
    for establishment in chosen:
        db.session.add(RelationEstablishment(relation_id=relation.id,
                                             establishment_id=establishment.id))
    db.session.flush()
    # Its required slots follow the establishments it covers (a new relation's first standing
    # comes from here too: open_relation() sets its scope).
    refresh_standing(relation_id=relation.id)
    if record_change:
        record(relation, user, "scope", establishments=sorted(e.siret for e in chosen))


def shared_types(relation_id: int) -> set[str]:
    return set(db.session.scalars(select(RelationShare.doc_type)
                                  .where(RelationShare.relation_id == relation_id)))


def share(relation: Relation, user: User | None, doc_types: Iterable[str]) -> set[str]:
    """The supplier shows these complementary types to this client (the required
    ones are always visible); returns what is now shared."""
    relation = lock_relation(relation.id)
    required = {rule.doc_type for rule in relation_rules(relation)}
    wanted = set()
    for code in doc_types:
        if code not in CATALOGUE:
            raise RelationError(f"Type de document inconnu\u00a0: {code}.", "doc_types")
        if code not in required:
            wanted.add(code)
    before = shared_types(relation.id)
    if wanted != before:
        db.session.execute(delete(RelationShare).where(RelationShare.relation_id == relation.id))
        for code in sorted(wanted):
            db.session.add(RelationShare(relation_id=relation.id, doc_type=code))
        record(relation, user, "shared", doc_types=sorted(wanted))
    return wanted
