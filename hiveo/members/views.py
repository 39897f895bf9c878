"""The "Membres" section's actions, and the page an invitation link opens."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user
from werkzeug.wrappers import Response

from ..core.errors import abort_fr
from ..core.tenancy import CompanyAccess, admin_required, signed_in_user
from ..extensions import db
from ..htmx import redirect_after_post
from ..models import User
from ..passwords import password_problem
from .forms import ConfirmForm, CreateAccountForm, InviteForm, RoleForm
from .services import (
    ROLE_LABELS,
    MemberError,
    accept_invitation,
    change_role,
    invite,
    members_section,
    read_invitation_link,
    remove_member,
    resend_invitation,
    revoke_invitation,
)

bp = Blueprint("members", __name__)



def _me() -> User:
    return signed_in_user()


def _back(siren: str) -> Response:
    return redirect_after_post(url_for("organisations.company", siren=siren) + "#membres")


@bp.post("/organisations/<siren>/membres/inviter")
@login_required
def invite_member(siren: str) -> ResponseReturnValue:
    access = admin_required(siren)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation = invite(access.company, _me(), form.email.data, form.role.data,
                                days=current_app.config["INVITATION_DAYS"],
                                base_url=current_app.config["BASE_URL"])
        except MemberError as error:
            form.email.errors = [*form.email.errors, str(error)]
        else:
            email = invitation.email
            db.session.commit()
            flash(f"Invitation envoyée à {email}.", "success")
            return _back(siren)
    db.session.rollback()
    return render_template("members/invite.html", access=access, company=access.company,
                           form=form), 422


@bp.get("/organisations/<siren>/membres/inviter")
@login_required
def invite_page(siren: str) -> ResponseReturnValue:
    access = admin_required(siren)
    return render_template("members/invite.html", access=access, company=access.company,
                           form=InviteForm())


@bp.post("/organisations/<siren>/membres/<int:membership_id>/role")
@login_required
def member_role(siren: str, membership_id: int) -> ResponseReturnValue:
    access = admin_required(siren)
    form = RoleForm()
    if not form.validate_on_submit():
        return _section_page(access, 422, "Choisissez le rôle : administrateur ou membre.")
    try:
        membership = change_role(access.company, membership_id, form.role.data, _me())
    except MemberError as error:
        db.session.rollback()
        return _section_page(access, 409, str(error))
    name, role = membership.user.name, membership.role
    db.session.commit()
    flash(f"{name} est désormais {ROLE_LABELS[role]}.", "success")
    return _back(siren)


@bp.route("/organisations/<siren>/membres/<int:membership_id>/retirer", methods=["GET", "POST"])
@login_required
def member_remove(siren: str, membership_id: int) -> ResponseReturnValue:
    access = admin_required(siren)
    section = members_section(access.company.id)
    member = next((m for m in section.members if m.membership_id == membership_id), None)
    if member is None:
        abort_fr(404, "Cette personne n'est pas (ou plus) membre de l'entreprise.")
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            user = remove_member(access.company, membership_id, _me())
        except MemberError as error:
            db.session.rollback()
            return _section_page(access, 409, str(error))
        name, removed_self = user.name, user.id == current_user.id
        db.session.commit()
        flash(f"{name} ne fait plus partie de {access.company.name}.", "success")
        if removed_self:
            return redirect_after_post(url_for("organisations.index"))
        return _back(siren)
    return render_template("members/remove.html", access=access, company=access.company,
                           member=member, form=form)


@bp.post("/organisations/<siren>/invitations/<int:invitation_id>/renvoyer")
@login_required
def invitation_resend(siren: str, invitation_id: int) -> ResponseReturnValue:
    access = admin_required(siren)
    try:
        invitation = resend_invitation(access.company, invitation_id, _me(),
                                       days=current_app.config["INVITATION_DAYS"],
                                       base_url=current_app.config["BASE_URL"])
    except MemberError as error:
        db.session.rollback()
        return _section_page(access, 409, str(error))
    email = invitation.email
    db.session.commit()
    flash(f"Invitation renvoyée à {email} ; le lien précédent ne fonctionne plus.", "success")
    return _back(siren)


@bp.post("/organisations/<siren>/invitations/<int:invitation_id>/revoquer")
@login_required
def invitation_revoke(siren: str, invitation_id: int) -> ResponseReturnValue:
    access = admin_required(siren)
    try:
        invitation = revoke_invitation(access.company, invitation_id, _me())
    except MemberError as error:
        db.session.rollback()
        return _section_page(access, 409, str(error))
    email = invitation.email
    db.session.commit()
    flash(f"L'invitation de {email} est révoquée.", "success")
    return _back(siren)


def _section_page(access: CompanyAccess, status: int, message: str) -> tuple[str, int]:
    """A refused action: the members page with the reason on top (no JavaScript needed)."""
    return render_template("members/refused.html", access=access, company=access.company,
                           members=members_section(access.company.id), message=message), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept(token: str) -> ResponseReturnValue:
    link = read_invitation_link(token)
    if link.problem:
        db.session.rollback()
        return render_template("auth/link_problem.html", text=link.problem), 410
    invitation = link.found
    siren, company_name = invitation.company.siren, invitation.company.name
    context = {"invitation": invitation, "company": invitation.company,
               "role_label": ROLE_LABELS[invitation.role]}
    if current_user.is_authenticated:
        if current_user.email != invitation.email:
            status = 403 if request.method == "POST" else 200
            return render_template("members/accept_other.html", **context), status
        form = ConfirmForm()
        if request.method == "POST" and form.validate_on_submit():
            try:
                accept_invitation(token, user=_me())
            except MemberError as error:
                db.session.rollback()
                return render_template("auth/link_problem.html", text=str(error)), 409
            db.session.commit()
            flash(f"Vous avez rejoint {company_name}.", "success")
            return redirect(url_for("organisations.company", siren=siren), code=303)
        return render_template("members/accept_join.html", form=form, **context)
    if link.account_exists:
        return render_template("members/accept_sign_in.html", **context)
    form = CreateAccountForm()
    if request.method == "POST":
        valid = form.validate_on_submit()
        problem = password_problem(form.password.data or "", email=invitation.email)
        if form.password.data and problem:
            form.password.errors = [*form.password.errors, problem]
            valid = False
        if valid:
            try:
                user = accept_invitation(token, name=form.name.data, password=form.password.data,
                                         profile=current_app.config["ARGON2_PROFILE"])
            except MemberError as error:
                db.session.rollback()
                form.form_errors.append(str(error))
            else:
                db.session.commit()
                flask_session.clear()
                login_user(user)
                flask_session.permanent = True
                flash(f"Bienvenue ! Votre compte est créé et vous avez rejoint {company_name}.",
                      "success")
                return redirect(url_for("organisations.company", siren=siren), code=303)
        return render_template("members/accept_create.html", form=form, **context), 422
    return render_template("members/accept_create.html", form=form, **context)
