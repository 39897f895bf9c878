"""The Documents tab: the dossier, manual upload, downloads."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    request,
    send_file,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from ..core import clock
from ..core.errors import abort_fr
from ..core.tenancy import CompanyAccess, companies_of, member_required
from ..dossier import services
from ..dossier.catalogue import CATALOGUE
from ..dossier.managed import managed_types
from ..dossier.queries import (
    Required,
    establishment_slots,
    filtered_items,
    last_accesses,
    load_dossier,
)
from ..dossier.states import State, document_state
from ..dossier.storage import storage
from ..dossier.summary import dossier_summary
from ..extensions import db
from ..htmx import is_partial, redirect_after_post, render, render_fragment
from ..models import Document, Establishment
from ..providers import PROVIDERS
from ..relations.requirements import supplier_requirements
from ..security import FILE_CONTENT_SECURITY_POLICY
from ..web import page_number
from .forms import NO_REPLACEMENT, UploadForm

bp = Blueprint("documents", __name__)
bp.record_once(
    lambda state: state.app.jinja_env.globals.update(
        State=State, document_state=document_state, catalogue=CATALOGUE,
        provider_names=PROVIDERS,
    )
)


@bp.context_processor
def _dossier_url() -> dict:
    """The dossier's URL, from which its pages build their many links by concatenation."""
    siren = (request.view_args or {}).get("siren")
    return {"dossier_url": url_for("documents.dossier", siren=siren)} if siren else {}

# Up to this many establishments the upload form offers a list; beyond, a SIRET field.
SELECT_LIMIT = 300
_FILTERS = {
    "action": None,
    **{state.value: state for state in State},
}


@bp.get("/documents")
@login_required
def index() -> ResponseReturnValue:
    """The dossier of the company the user works in; a choice when there are several."""
    companies = companies_of(current_user)
    chosen = request.args.get("siren") or session.get("dossier_siren")
    if chosen in {company.siren for company in companies}:
        return redirect(url_for("documents.dossier", siren=chosen))
    if len(companies) == 1:
        return redirect(url_for("documents.dossier", siren=companies[0].siren))
    return render("documents/choose.html", "documents/choose.html", companies=companies)


@bp.get("/organisations/<siren>/documents")
@login_required
def dossier(siren: str) -> ResponseReturnValue:
    access = member_required(siren)
    if session.get("dossier_siren") != access.company.siren:
        session["dossier_siren"] = access.company.siren
    today = clock.today()
    query = request.args.get("q", "").strip()[:100]
    state_filter = request.args.get("etat", "")
    chosen = _FILTERS.get(state_filter)
    required = _required(access)
    if chosen is not None:
        listing = filtered_items(access.company, chosen, today, query=query,
                                 page=page_number(), required=required)
        return render("documents/dossier.html", "documents/_filtered.html", access=access,
                      company=access.company, listing=listing, dossier=None, query=query,
                      state_filter=state_filter, companies=_other_companies(access),
                      managed=_managed(access), required=required)
    managed = _managed(access)
    dossier_data = load_dossier(access.company, today, query=query, page=page_number(),
                                managed_by=managed.get, required=required)
    return render("documents/dossier.html", "documents/_overview.html", access=access,
                  company=access.company, dossier=dossier_data, listing=None, query=query,
                  state_filter="", companies=_other_companies(access),
                  accesses=dossier_data.accesses, required=required,
                  summary=dossier_summary(access.company, today, dossier_data.company_slots,
                                          required))


@bp.get("/organisations/<siren>/documents/etablissements/<siret>")
@login_required
def establishment(siren: str, siret: str) -> ResponseReturnValue:
    """One establishment's slots: a page, and the fragment a dossier section loads."""
    access = member_required(siren)
    row = db.session.execute(
        select(Establishment.id, Establishment.siret, Establishment.name, Establishment.city)
        .where(Establishment.company_id == access.company.id, Establishment.siret == siret)
    ).first()
    if row is None:
        abort(404)
    managed = _managed(access)
    required = _required(access)
    slots = establishment_slots(access.company, row, clock.today(), managed_by=managed.get,
                                required=required)
    documents = [doc for slot in slots for doc in (*slot.current, *slot.history)]
    return render("documents/establishment.html", "documents/_establishment_slots.html",
                  access=access, company=access.company, establishment=row, slots=slots,
                  today=clock.today(), accesses=last_accesses(documents), required=required)


def _required(access: CompanyAccess) -> Required:
    """What the company's active clients require of it (DOMAIN.md 5)."""
    return Required.of(supplier_requirements(access.company.id))


def _managed(access: CompanyAccess) -> dict[str, str]:
    """The types providers manage for the company; none without a provider account."""
    return managed_types(access.company.id) if access.company.has_provider_links else {}


def _other_companies(access: CompanyAccess):
    """The user's companies for the switcher, when there is more than this one."""
    companies = companies_of(current_user)
    return companies if len(companies) > 1 else []


def _establishment_choices(access: CompanyAccess) -> list[Establishment] | None:
    count = db.session.scalar(
        select(func.count(Establishment.id)).where(Establishment.company_id == access.company.id)
    ) or 0
    if count > SELECT_LIMIT:
        return None
    return list(db.session.scalars(
        select(Establishment)
        .where(Establishment.company_id == access.company.id)
        .order_by(Establishment.siret)
    ))


def _replace_choices(access: CompanyAccess, doc_type: str, siret: str) -> list[Document]:
    spec = CATALOGUE.get(doc_type)
    if spec is None or not spec.multi:
        return []
    conditions = [Document.company_id == access.company.id, Document.doc_type == doc_type,
                  Document.is_current.is_(True)]
    if siret:
        conditions.append(Document.establishment_id.in_(
            select(Establishment.id).where(Establishment.siret == siret)
        ))
    else:
        conditions.append(Document.establishment_id.is_(None))
    return list(db.session.scalars(select(Document).where(*conditions).order_by(Document.id)))


def _upload_context(access: CompanyAccess, form: UploadForm, problems=None) -> dict:
    doc_type = form.doc_type.data or ""
    siret = form.siret.data or ""
    replace_choices = _replace_choices(access, doc_type, siret)
    form.replaces.choices = [NO_REPLACEMENT] + [
        SelectChoice(str(doc.id), f"Document du {doc.issue_date:%d/%m/%Y} (valable jusqu'au "
                                  f"{doc.effective_end:%d/%m/%Y})")
        for doc in replace_choices
    ]
    managed = managed_types(access.company.id)
    form.doc_type.choices = [SelectChoice("", "Choisissez un type…")] + [
        SelectChoice(t.code, f"{t.label} (géré par {PROVIDERS[managed[t.code]]})",
                     render_kw={"disabled": True})
        if t.code in managed else SelectChoice(t.code, t.label)
        for t in CATALOGUE.values()
    ]
    form_errors = [message for field, message in (problems.items if problems else [])
                   if field is None]
    return {
        "access": access,
        "company": access.company,
        "managed": managed,
        "form": form,
        "form_errors": form_errors,
        "establishments": _establishment_choices(access),
        "catalogue": CATALOGUE,
        "max_mb": current_app.config["MAX_UPLOAD_MB"],
    }


@bp.route("/organisations/<siren>/documents/deposer", methods=["GET", "POST"])
@login_required
def upload(siren: str) -> ResponseReturnValue:
    access = member_required(siren)
    form = UploadForm()
    if request.method == "GET":
        form.doc_type.data = request.args.get("type", "")
        form.siret.data = request.args.get("siret", "")
        return render("documents/upload.html", "documents/_upload_dialog.html",
                      **_upload_context(access, form))

    problems = services.Problems()
    form.validate()
    for name, errors in form.errors.items():
        for message in errors:
            problems.add(message, None if name == "csrf_token" else name)
    auto = current_app.config["AUTO_VALIDATE"]
    upload_file = request.files.get("file")
    submission = services.Submission(
        doc_type=form.doc_type.data or "", siret=form.siret.data or None,
        issue_date=form.issue_date.data, validity_start=form.validity_start.data,
        validity_end=form.validity_end.data, replaces=form.replaces.data or None,
        validated=auto,
    )
    kept = _kept_file(access, request.form.get("kept_file", ""))
    try:
        document = services.submit_upload(
            access.company, submission, upload_file.stream if upload_file else None,
            upload_file.filename if upload_file else None,
            uploaded_by=current_user, today=clock.today(), problems=problems,
            kept=kept, keep_on_refusal=True,
        )
    except services.UploadRejected as rejected:
        db.session.rollback()
        _remember_kept_file(access, rejected.kept)
        return _upload_errors(access, form, rejected.problems, rejected.kept)
    db.session.commit()
    _remember_kept_file(access, None)
    doc_type = CATALOGUE[document.doc_type]
    if auto:
        flash(f"Document déposé et validé : {doc_type.label}.", "success")
    else:
        flash(
            f"Document déposé : {doc_type.label}. Il est en cours de validation par nos "
            "opérateurs.",
            "success",
        )
    return redirect_after_post(url_for("documents.dossier", siren=access.company.siren))


# A file kept from a refused submission is offered again only to the session that sent it.
_KEPT_KEY = "kept_upload"


def _kept_file(access: CompanyAccess, token: str) -> services.KeptFile | None:
    remembered = session.get(_KEPT_KEY) or {}
    if not token or remembered.get("token") != token or (
            remembered.get("company_id") != access.company.id):
        return None
    return services.KeptFile.find(token, remembered.get("filename", "document.pdf"))


def _remember_kept_file(access: CompanyAccess, kept: services.KeptFile | None) -> None:
    if kept is None:
        session.pop(_KEPT_KEY, None)
    else:
        session[_KEPT_KEY] = {"token": kept.token, "filename": kept.filename,
                              "company_id": access.company.id}


def _upload_errors(access: CompanyAccess, form: UploadForm, problems,
                   kept: services.KeptFile | None = None) -> Response:
    for field_name, message in problems.items:
        field = getattr(form, field_name, None) if field_name else None
        if field is not None and message not in field.errors:
            field.errors = [*field.errors, message]
    context = _upload_context(access, form, problems)
    context["kept"] = kept
    if is_partial():
        return render_fragment("documents/_upload_form.html", 422, **context)
    return render("documents/upload.html", "documents/_upload_form.html", 422, **context)


@bp.get("/organisations/<siren>/documents/<int:document_id>/fichier")
@login_required
def download(siren: str, document_id: int) -> ResponseReturnValue:
    access = member_required(siren)
    row = db.session.execute(
        select(Document, Establishment.siret)
        .outerjoin(Establishment, Establishment.id == Document.establishment_id)
        .where(Document.id == document_id, Document.company_id == access.company.id)
    ).first()
    if row is None:
        abort(404)
    document, siret = row
    return send_document_file(
        document, services.download_name(document, access.company.siren, siret), inline=False
    )


def send_document_file(document: Document, name: str, *, inline: bool) -> Response:
    path = storage().path(document.sha256)
    if not path.is_file():
        current_app.logger.error("file %s of document %s is missing", document.sha256,
                                 document.id)
        abort_fr(500, "Le fichier de ce document est introuvable dans le stockage. "
                      "L'équipe d'exploitation doit lancer « flask storage check ».")
    response = send_file(path, mimetype="application/pdf", as_attachment=not inline,
                         download_name=name, conditional=False, etag=False, max_age=0)
    response.headers["Content-Security-Policy"] = FILE_CONTENT_SECURITY_POLICY
    return response
