"""Add, edit and close a company's establishments (admins); nothing is ever deleted."""

from __future__ import annotations

from flask import Blueprint, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..core.audit import audit
from ..core.errors import abort_fr
from ..core.tenancy import CompanyAccess, admin_required, signed_in_user
from ..extensions import db
from ..htmx import redirect_after_post
from ..identifiers import format_siret
from ..models import Establishment, User, utcnow
from ..organisations.services import (
    OrganisationError,
    add_establishment,
    close_establishment,
    reopen_establishment,
    update_establishment,
)
from .forms import ConfirmForm, EstablishmentForm, NewEstablishmentForm

bp = Blueprint("establishments", __name__, url_prefix="/organisations/<siren>/etablissements")



def _establishment(access: CompanyAccess, siret: str) -> Establishment:
    establishment = db.session.scalar(select(Establishment).where(
        Establishment.company_id == access.company.id, Establishment.siret == siret))
    if establishment is None:
        abort_fr(404, "Cet établissement n'existe pas dans cette entreprise.")
    return establishment


def _me() -> User:
    return signed_in_user()


def _back(siren: str) -> Response:
    return redirect_after_post(url_for("organisations.company", siren=siren))


@bp.route("/ajouter", methods=["GET", "POST"])
@login_required
def add(siren: str) -> ResponseReturnValue:
    access = admin_required(siren)
    form = NewEstablishmentForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                establishment = add_establishment(
                    form.siret.data, form.name.data, address=form.address.data or "",
                    postal_code=form.postal_code.data or "", city=form.city.data or "",
                    company=access.company)
            except OrganisationError as error:
                form.siret.errors = [*form.siret.errors, str(error)]
            else:
                audit(access.company.id, _me(), "establishment.added",
                      siret=establishment.siret, name=establishment.name)
                label = f"{establishment.name} ({format_siret(establishment.siret)})"
                db.session.commit()
                flash(f"Établissement ajouté : {label}.", "success")
                return _back(siren)
        db.session.rollback()
        return render_template("establishments/form.html", access=access,
                               company=access.company, form=form, establishment=None), 422
    return render_template("establishments/form.html", access=access, company=access.company,
                           form=form, establishment=None)


@bp.route("/<siret>/modifier", methods=["GET", "POST"])
@login_required
def edit(siren: str, siret: str) -> ResponseReturnValue:
    access = admin_required(siren)
    establishment = _establishment(access, siret)
    form = EstablishmentForm(obj=establishment)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                update_establishment(access.company, siret, name=form.name.data,
                                     address=form.address.data or "",
                                     postal_code=form.postal_code.data or "",
                                     city=form.city.data or "")
            except OrganisationError as error:
                form.name.errors = [*form.name.errors, str(error)]
            else:
                audit(access.company.id, _me(), "establishment.updated", siret=siret,
                      name=establishment.name)
                db.session.commit()
                flash("Établissement modifié.", "success")
                return _back(siren)
        db.session.rollback()
        establishment = _establishment(access, siret)
        return render_template("establishments/form.html", access=access,
                               company=access.company, form=form,
                               establishment=establishment), 422
    return render_template("establishments/form.html", access=access, company=access.company,
                           form=form, establishment=establishment)


@bp.route("/<siret>/fermer", methods=["GET", "POST"])
@login_required
def close(siren: str, siret: str) -> ResponseReturnValue:
    """Close (or reopen) an establishment, after a confirmation page."""
    access = admin_required(siren)
    establishment = _establishment(access, siret)
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        reopening = establishment.closed_at is not None
        try:
            if reopening:
                reopen_establishment(access.company, siret)
            else:
                close_establishment(access.company, siret, utcnow())
        except OrganisationError as error:
            db.session.rollback()
            abort_fr(409, str(error))
        audit(access.company.id, _me(),
              "establishment.reopened" if reopening else "establishment.closed",
              siret=siret, name=establishment.name)
        name = establishment.name
        db.session.commit()
        flash(f"{name} est rouvert." if reopening else
              f"{name} est fermé : il reste dans le dossier avec ses documents, masqué des "
              "listes.", "success")
        return _back(siren)
    return render_template("establishments/close.html", access=access, company=access.company,
                           establishment=establishment, form=form)
