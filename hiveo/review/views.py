"""Operators review manual uploads: a queue, a sandboxed preview, validate or refuse."""

from __future__ import annotations

import math
from functools import wraps

from flask import Blueprint, abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from werkzeug.wrappers import Response

from ..core import clock
from ..core.errors import abort_fr
from ..documents.forms import RefuseForm
from ..documents.views import send_document_file
from ..dossier import services
from ..dossier.catalogue import CATALOGUE
from ..dossier.states import document_state
from ..extensions import db
from ..htmx import render
from ..models import Company, Document, Establishment, ReviewState, User
from ..web import page_number

bp = Blueprint("review", __name__, url_prefix="/operateur")
PER_PAGE = 50


def operator_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_operator:
            abort_fr(403, "Cette page est réservée aux opérateurs.")
        return view(*args, **kwargs)

    return wrapper


def _load(document_id: int):
    uploader = aliased(User)
    reviewer = aliased(User)
    row = db.session.execute(
        select(Document, Company, Establishment, uploader, reviewer)
        .join(Company, Company.id == Document.company_id)
        .outerjoin(Establishment, Establishment.id == Document.establishment_id)
        .outerjoin(uploader, uploader.id == Document.uploaded_by_id)
        .outerjoin(reviewer, reviewer.id == Document.reviewed_by_id)
        .where(Document.id == document_id)
    ).first()
    if row is None:
        abort(404)
    return row


@bp.get("/validation")
@operator_required
def queue() -> ResponseReturnValue:
    page = page_number()
    pending = (Document.review_state == ReviewState.PENDING.value,
               Document.archived_at.is_(None))
    total = db.session.scalar(select(func.count(Document.id)).where(*pending)) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(page, 1), pages)
    uploader = aliased(User)
    rows = db.session.execute(
        select(Document, Company, Establishment, uploader)
        .join(Company, Company.id == Document.company_id)
        .outerjoin(Establishment, Establishment.id == Document.establishment_id)
        .outerjoin(uploader, uploader.id == Document.uploaded_by_id)
        .where(*pending)
        .order_by(Document.uploaded_at, Document.id)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return render("review/queue.html", "review/_queue.html", rows=rows, total=total, page=page,
                  pages=pages, catalogue=CATALOGUE)


def _review_page(document_id: int, form: RefuseForm, status: int = 200) -> Response:
    document, company, establishment, uploader, reviewer = _load(document_id)
    return render(
        "review/document.html", "review/document.html", status,
        document=document, company=company, establishment=establishment, uploader=uploader,
        reviewer=reviewer, doc_type=CATALOGUE[document.doc_type], form=form,
        state=document_state(document, clock.today()),
    )


@bp.get("/documents/<int:document_id>")
@operator_required
def document(document_id: int) -> ResponseReturnValue:
    return _review_page(document_id, RefuseForm())


@bp.get("/documents/<int:document_id>/apercu")
@operator_required
def preview(document_id: int) -> ResponseReturnValue:
    document = db.session.get(Document, document_id)
    if document is None:
        abort(404)
    response = send_document_file(document, f"apercu-{document.id}.pdf", inline=True)
    # Shown only inside the review page's frame; the sandbox keeps it inert.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'self'; sandbox"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/documents/<int:document_id>/valider")
@operator_required
def validate(document_id: int) -> ResponseReturnValue:
    try:
        document = services.validate_document(document_id, current_user)
    except services.ReviewConflict as error:
        db.session.rollback()
        flash(str(error), "warning")
        return redirect(url_for("review.document", document_id=document_id), code=303)
    db.session.commit()
    flash(f"Document validé : {CATALOGUE[document.doc_type].label}.", "success")
    return redirect(url_for("review.queue"), code=303)


@bp.post("/documents/<int:document_id>/refuser")
@operator_required
def refuse(document_id: int) -> ResponseReturnValue:
    form = RefuseForm()
    try:
        document = services.refuse_document(document_id, current_user, form.reason.data or "")
    except services.ReviewConflict as error:
        db.session.rollback()
        flash(str(error), "warning")
        return redirect(url_for("review.document", document_id=document_id), code=303)
    except services.DocumentError as error:
        db.session.rollback()
        form.reason.errors = [str(error)]
        return _review_page(document_id, form, 422)
    db.session.commit()
    flash(f"Document refusé : {CATALOGUE[document.doc_type].label}.", "success")
    return redirect(url_for("review.queue"), code=303)
