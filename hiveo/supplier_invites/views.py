"""Client admins invite suppliers: one by the form, many by a CSV file."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, make_response, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from ..core.tenancy import admin_required, signed_in_user
from ..extensions import db
from ..htmx import redirect_after_post, render
from ..relations.invitations import (
    CSV_COLUMNS,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    ImportFileError,
    InvitationRefused,
    import_suppliers,
    invite_supplier,
    model_csv,
    parse_csv,
)
from ..relations.services import References
from .forms import ImportForm, InviteSupplierForm

bp = Blueprint("supplier_invites", __name__)


def supplier_list_url(siren: str) -> str:
    """"Mes fournisseurs" (blueprint suppliers); the company page until it is there."""
    if "suppliers.list" in current_app.view_functions:
        return url_for("suppliers.list", siren=siren)
    return url_for("organisations.company", siren=siren)


def _config() -> dict:
    return {"base_url": current_app.config["BASE_URL"],
            "days": current_app.config["INVITATION_DAYS"]}


@bp.route("/organisations/<siren>/fournisseurs/inviter", methods=["GET", "POST"])
@login_required
def invite(siren: str) -> ResponseReturnValue:
    access = admin_required(siren)
    form = InviteSupplierForm()
    if request.method == "GET":
        return render("supplier_invites/invite.html", "supplier_invites/_invite_form.html",
                      access=access, company=access.company, form=form,
                      back=supplier_list_url(siren))
    if form.validate_on_submit():
        try:
            result = invite_supplier(
                access.company, signed_in_user(), identifier=form.siren.data or "",
                name=form.name.data or "", email=form.email.data or "",
                references=References(
                    supplier_code=form.supplier_code.data or None,
                    contract_ref=form.contract_ref.data or "",
                    category=form.category.data or "",
                    description=form.description.data or "",
                    tracking_end=form.tracking_end.data),
                **_config())
        except InvitationRefused as refused:
            for name, message in refused.errors.items():
                field = getattr(form, name, None) or form.siren
                field.errors = [*field.errors, message]
        else:
            summary = result.summary()
            db.session.commit()
            flash(f"Invitation envoyée. {summary}", "success")
            return redirect_after_post(supplier_list_url(siren))
    db.session.rollback()
    return render("supplier_invites/invite.html", "supplier_invites/_invite_form.html", 422,
                  access=access, company=access.company, form=form,
                  back=supplier_list_url(siren))


def _import_page(access, form: ImportForm, status: int = 200, **context) -> ResponseReturnValue:
    return render("supplier_invites/import.html", "supplier_invites/_import_body.html", status,
                  access=access, company=access.company, form=form, columns=CSV_COLUMNS,
                  max_rows=MAX_IMPORT_ROWS, max_mb=MAX_IMPORT_BYTES // (1024 * 1024),
                  back=supplier_list_url(access.company.siren), **context)


@bp.route("/organisations/<siren>/fournisseurs/importer", methods=["GET", "POST"])
@login_required
def bulk(siren: str) -> ResponseReturnValue:
    access = admin_required(siren)
    form = ImportForm()
    if request.method == "GET":
        return _import_page(access, form)
    if not form.validate_on_submit():
        if form.mode.errors:
            form.mode.errors = ["Choisissez ce qui se passe en cas de ligne refusée."]
        return _import_page(access, form, 422)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form.file.errors = ["Choisissez le fichier CSV à importer."]
        return _import_page(access, form, 422)
    data = upload.stream.read(MAX_IMPORT_BYTES + 1)
    try:
        rows = parse_csv(data)
    except ImportFileError as error:
        form.file.errors = [str(error)]
        return _import_page(access, form, 422)
    report = import_suppliers(access.company, signed_in_user(), rows, form.mode.data,
                              **_config())
    db.session.commit()
    status = 422 if report.refused and not report.written else 200
    return _import_page(access, ImportForm(formdata=None), status, report=report)


@bp.get("/organisations/<siren>/fournisseurs/modele-import.csv")
@login_required
def model(siren: str) -> ResponseReturnValue:
    admin_required(siren)
    response = make_response(model_csv().encode("utf-8"))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="modele-fournisseurs.csv"'
    return response
