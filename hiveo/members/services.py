"""Members and invitations, without HTTP. Every change is audited; callers commit.

A company always keeps one admin: removing or demoting the last one is
refused. The check runs under the company's lock, so two admins demoting
each other at once cannot both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..auth import tokens
from ..auth.services import AccountError, check_email, create_user, normalise_email
from ..core.audit import audit
from ..core.locks import lock_company
from ..core.text import fold, format_date
from ..extensions import db
from ..mail.outbox import enqueue
from ..models import AuditEvent, Invitation, Membership, Role, TokenPurpose, User, utcnow

ROLE_LABELS = {Role.ADMIN.value: "administrateur", Role.MEMBER.value: "membre"}
MEMBER_ACTIONS = ("member.invited", "member.invitation_resent", "member.invitation_revoked",
                  "member.joined", "member.role_changed", "member.removed")


class MemberError(ValueError):
    """A refusal whose message is meant for a person (French)."""


@dataclass(frozen=True)
class MemberRow:
    membership_id: int
    user_id: int
    name: str
    email: str
    role: str
    last_login_at: datetime | None


@dataclass(frozen=True)
class InvitationRow:
    id: int
    email: str
    role: str
    created_at: datetime
    expires_at: datetime
    invited_by: str | None

    @property
    def expired(self) -> bool:
        return self.expires_at <= utcnow()


@dataclass(frozen=True)
class MembersSection:
    """What the "Membres" section of a company page shows, in three queries."""

    members: list[MemberRow]
    invitations: list[InvitationRow]
    events: list[AuditEvent]

    @property
    def admin_count(self) -> int:
        return sum(1 for member in self.members if member.role == Role.ADMIN)


def members_section(company_id: int, *, history: int = 10) -> MembersSection:
    # By name the French way ("Émilie" among the E's), folded here: a company's members
    # are a short list, and names are the people's own, not kept folded in the database.
    members = sorted((MemberRow(*row) for row in db.session.execute(
        select(Membership.id, User.id, User.name, User.email, Membership.role,
               User.last_login_at)
        .join(User, User.id == Membership.user_id)
        .where(Membership.company_id == company_id))),
        key=lambda member: (fold(member.name), member.user_id))
    invitations = [InvitationRow(*row) for row in db.session.execute(
        select(Invitation.id, Invitation.email, Invitation.role, Invitation.created_at,
               Invitation.expires_at, User.name)
        .outerjoin(User, User.id == Invitation.invited_by_id)
        .where(Invitation.company_id == company_id, Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc()))]
    events = list(db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.company_id == company_id, AuditEvent.action.in_(MEMBER_ACTIONS))
        .options(joinedload(AuditEvent.user))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(history)))
    return MembersSection(members, invitations, events)


def _check_role(role: str) -> str:
    if role not in (Role.ADMIN, Role.MEMBER):
        raise MemberError("Choisissez le rôle : administrateur ou membre.")
    return role


def _admin_count(company_id: int) -> int:
    return db.session.scalar(select(func.count(Membership.id)).where(
        Membership.company_id == company_id, Membership.role == Role.ADMIN.value)) or 0


def _membership(company_id: int, membership_id: int) -> Membership:
    membership = db.session.scalar(
        select(Membership).where(Membership.id == membership_id,
                                 Membership.company_id == company_id)
        .options(joinedload(Membership.user)))
    if membership is None:
        raise MemberError("Cette personne n'est pas (ou plus) membre de l'entreprise.")
    return membership


def _send_invitation(invitation: Invitation, company_name: str, inviter: User,
                     base_url: str, client: str | None = None) -> None:
    tokens.invalidate(TokenPurpose.INVITATION, invitation_id=invitation.id)
    raw = tokens.issue(TokenPurpose.INVITATION, invitation.email,
                       invitation.expires_at - utcnow(), invitation_id=invitation.id)
    subject = (f"{client} vous invite à déposer les documents de {company_name} sur hiveo"
               if client else f"Invitation à rejoindre {company_name} sur hiveo")
    enqueue("invitation", invitation.email, subject,
            "invitation", reply_to=inviter.email, inviter=inviter.name, company=company_name,
            role_label=ROLE_LABELS[invitation.role], expires=format_date(invitation.expires_at),
            link=f"{base_url}/invitation/{raw}", client=client)


def invite(company, inviter: User, email: str, role: str, *, days: int,
           base_url: str, client: str | None = None) -> Invitation:
    """Invite an address into the company; the e-mail leaves with the commit.

    `client`: the name of the client company that invites this company as
    its supplier (hiveo/relations/invitations.py); the e-mail then says who
    asks for the documents and why.
    """
    try:
        address = check_email(email)
    except AccountError as error:
        raise MemberError(str(error)) from None
    role = _check_role(role)
    lock_company(company.id)
    already = db.session.scalar(
        select(User.name).join(Membership, Membership.user_id == User.id)
        .where(Membership.company_id == company.id, User.email == address))
    if already is not None:
        raise MemberError(f"{address} est déjà membre de {company.name}.")
    pending = db.session.scalar(select(Invitation.id).where(
        Invitation.company_id == company.id, Invitation.email == address,
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
        Invitation.expires_at > utcnow()))
    if pending is not None:
        raise MemberError(f"Une invitation est déjà en attente pour {address} : "
                          "renvoyez-la depuis la liste des invitations.")
    invitation = Invitation(company_id=company.id, email=address, role=role,
                            invited_by_id=inviter.id, expires_at=utcnow() + timedelta(days=days))
    db.session.add(invitation)
    db.session.flush()
    _send_invitation(invitation, company.name, inviter, base_url, client)
    audit(company.id, inviter, "member.invited", email=address, role=role,
          **({"client": client} if client else {}))
    return invitation


def _open_invitation(company_id: int, invitation_id: int) -> Invitation:
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.id == invitation_id, Invitation.company_id == company_id))
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        raise MemberError("Cette invitation n'est plus en attente (acceptée ou révoquée).")
    return invitation


def resend_invitation(company, invitation_id: int, by: User, *, days: int,
                      base_url: str) -> Invitation:
    """A new link, valid `days` from now; the earlier link stops working."""
    lock_company(company.id)
    invitation = _open_invitation(company.id, invitation_id)
    invitation.expires_at = utcnow() + timedelta(days=days)
    _send_invitation(invitation, company.name, by, base_url)
    audit(company.id, by, "member.invitation_resent", email=invitation.email)
    return invitation


def revoke_invitation(company, invitation_id: int, by: User) -> Invitation:
    lock_company(company.id)
    invitation = _open_invitation(company.id, invitation_id)
    invitation.revoked_at = utcnow()
    tokens.invalidate(TokenPurpose.INVITATION, invitation_id=invitation.id)
    audit(company.id, by, "member.invitation_revoked", email=invitation.email)
    return invitation


LAST_ADMIN = ("{name} est le dernier administrateur de {company} : nommez d'abord un autre "
              "administrateur.")


def change_role(company, membership_id: int, role: str, by: User) -> Membership:
    role = _check_role(role)
    lock_company(company.id)
    membership = _membership(company.id, membership_id)
    if membership.role == role:
        return membership
    if membership.role == Role.ADMIN and _admin_count(company.id) <= 1:
        raise MemberError(LAST_ADMIN.format(name=membership.user.name, company=company.name))
    previous, membership.role = membership.role, role
    audit(company.id, by, "member.role_changed", email=membership.user.email,
          name=membership.user.name, previous=previous, role=role)
    return membership


def remove_member(company, membership_id: int, by: User) -> User:
    lock_company(company.id)
    membership = _membership(company.id, membership_id)
    if membership.role == Role.ADMIN and _admin_count(company.id) <= 1:
        raise MemberError(LAST_ADMIN.format(name=membership.user.name, company=company.name))
    user = membership.user
    db.session.delete(membership)
    audit(company.id, by, "member.removed", email=user.email, name=user.name,
          role=membership.role)
    return user


# --- accepting an invitation: from the link in the e-mail ---

@dataclass(frozen=True)
class InvitationLink:
    """What an invitation link is worth: the invitation, or why it cannot be used."""

    invitation: Invitation | None
    problem: str | None
    account_exists: bool = False

    @property
    def found(self) -> Invitation:
        """The invitation of a link without problem."""
        if self.invitation is None:
            raise LookupError("this link names no invitation")
        return self.invitation


def read_invitation_link(raw: str) -> InvitationLink:
    from ..auth.services import link_problem_text

    check = tokens.check(TokenPurpose.INVITATION, raw)
    if not check.ok:
        return InvitationLink(None, link_problem_text(check))
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.id == check.found.invitation_id)
        .options(joinedload(Invitation.company), joinedload(Invitation.invited_by)))
    if invitation is None or invitation.email != check.found.email:
        return InvitationLink(None, link_problem_text(tokens.TokenCheck(
            None, tokens.TokenProblem.UNKNOWN)))
    if invitation.revoked_at is not None:
        return InvitationLink(None, "Cette invitation a été révoquée par un administrateur "
                                    "de l'entreprise.")
    if invitation.accepted_at is not None:
        return InvitationLink(None, "Cette invitation a déjà été acceptée.")
    if invitation.expires_at <= utcnow():
        return InvitationLink(None, "Cette invitation a expiré : demandez à un administrateur "
                                    "de l'entreprise de vous la renvoyer.")
    exists = db.session.scalar(select(User.id).where(User.email == invitation.email)) is not None
    return InvitationLink(invitation, None, exists)


def accept_invitation(raw: str, *, user: User | None = None, name: str = "",
                      password: str = "", profile: str = "default") -> User:
    """Join the company: as `user` (signed in with the invited address) or as a new account."""
    from ..organisations.services import add_member

    link = read_invitation_link(raw)
    if link.problem:
        raise MemberError(link.problem)
    invitation = link.found
    lock_company(invitation.company_id)
    if user is not None:
        if normalise_email(user.email) != invitation.email:
            raise MemberError(f"Cette invitation est destinée à {invitation.email}.")
    else:
        if link.account_exists:
            raise MemberError(f"Un compte existe déjà pour {invitation.email} : connectez-vous "
                              "pour rejoindre l'entreprise.")
        if not (name or "").strip():
            raise MemberError("Le nom est obligatoire.")
        try:
            user = create_user(invitation.email, password, name=name, profile=profile)
        except AccountError as error:
            raise MemberError(str(error)) from None
    check = tokens.check(TokenPurpose.INVITATION, raw)
    if not tokens.consume(check.found):
        raise MemberError("Cette invitation a déjà été acceptée.")
    invitation.accepted_at = utcnow()
    membership = db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.company_id == invitation.company_id))
    if membership is None:
        add_member(user, invitation.company, invitation.role)
    audit(invitation.company_id, user, "member.joined", email=user.email, role=invitation.role)
    return user
