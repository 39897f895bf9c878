"""The supplier's "Mes clients": read by members, answered and shared by admins."""

from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from ..core import clock
from ..core.tenancy import CompanyAccess, admin_required, member_required, signed_in_user
from ..extensions import db
from ..htmx import redirect_after_post, render
from ..models import Company, Relation
from ..relations import services as relations
from .forms import RespondForm, ShareForm
from .queries import clients_page, supplier_relation

bp = Blueprint("clients", __name__)

ANSWERS = {"accepter": "accept", "decliner": "decline"}


@bp.get("/organisations/<siren>/clients")
@login_required
def index(siren: str) -> ResponseReturnValue:
    access = member_required(siren)
    page = clients_page(access.company, clock.today())
    return render("clients/index.html", "clients/_clients.html", access=access,
                  company=access.company, page=page, share_form=ShareForm())


def _own_relation(access: CompanyAccess, relation_id: int) -> Relation:
    """The relation of this supplier, locked; 404 for another company's."""
    relation = db.session.get(Relation, relation_id)
    if relation is None or relation.supplier_id != access.company.id:
        abort(404)
    return relation


def _back(access: CompanyAccess) -> ResponseReturnValue:
    return redirect_after_post(url_for("clients.index", siren=access.company.siren))


@bp.route("/organisations/<siren>/clients/<int:relation_id>/<answer>", methods=["GET", "POST"])
@login_required
def respond(siren: str, relation_id: int, answer: str) -> ResponseReturnValue:
    if answer not in ANSWERS:
        abort(404)
    access = admin_required(siren)
    form = RespondForm()
    if form.is_submitted():
        relation = _own_relation(access, relation_id)
        if form.validate():
            client_name = _client_name(relation)
            try:
                if answer == "accepter":
                    relations.accept(relation, signed_in_user())
                else:
                    relations.decline(relation, signed_in_user(), form.reason.data)
            except relations.RelationError as error:
                db.session.rollback()
                flash(str(error), "error")
                return _back(access)
            db.session.commit()
            if answer == "accepter":
                flash(f"{client_name} suit désormais votre dossier\u00a0: il voit les "
                      "documents qu'il exige de vous.", "success")
            else:
                flash(f"Invitation de {client_name} déclinée.", "success")
            return _back(access)
        db.session.rollback()
        status = 422
    else:
        status = 200
    relation_view = supplier_relation(access.company, relation_id)
    if relation_view is None:
        abort(404)
    return render("clients/respond.html", "clients/_respond_dialog.html", status,
                  access=access, company=access.company, relation=relation_view,
                  answer=answer, form=form)


def _client_name(relation: Relation) -> str:
    client = db.session.get(Company, relation.client_id)
    return client.name if client else ""


@bp.post("/organisations/<siren>/clients/<int:relation_id>/partage")
@login_required
def share(siren: str, relation_id: int) -> ResponseReturnValue:
    access = admin_required(siren)
    form = ShareForm()
    relation = _own_relation(access, relation_id)
    if not form.validate_on_submit():
        db.session.rollback()
        flash("Le formulaire a expiré\u00a0: recommencez.", "error")
        return _back(access)
    client_name = _client_name(relation)
    try:
        shared = relations.share(relation, signed_in_user(), form.doc_types.data or [])
    except relations.RelationError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back(access)
    db.session.commit()
    if shared:
        flash(f"{client_name} voit aussi vos documents complémentaires partagés.", "success")
    else:
        flash(f"{client_name} ne voit que les documents qu'il exige.", "success")
    return _back(access)
