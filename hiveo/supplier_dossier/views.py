"""A supplier seen by one of its clients: the dossier, downloads, the ZIP, the client's actions.

Access: a member of the client (admins for changes), then the client's
relation with that supplier (404 when there is none). What the client sees of
the supplier is decided by hiveo/relations/visibility.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..core import clock
from ..core.audit import audit
from ..core.errors import abort_fr
from ..core.inputs import ascii_digits
from ..core.locks import lock_company
from ..core.tenancy import CompanyAccess, admin_required, member_required, signed_in_user
from ..documents.views import send_document_file
from ..dossier.catalogue import CATALOGUE, Level
from ..dossier.services import download_name
from ..dossier.storage import storage
from ..extensions import db
from ..htmx import is_htmx, redirect_after_post, render, render_fragment
from ..models import Company, Relation, RelationState
from ..relations import services as relations
from ..relations.access import record_access
from ..relations.compliance import relation_compliance
from ..relations.requirements import (
    RequirementError,
    Rule,
    client_rules,
    default_rules,
    relation_rules,
    set_requirements,
)
from ..relations.visibility import shows_documents, visible_types
from ..security import FILE_CONTENT_SECURITY_POLICY
from ..web import page_number
from . import queries
from .archive import MissingFile, build_zip
from .forms import ReasonForm, ReferencesForm

bp = Blueprint("supplier_dossier", __name__)
bp.record_once(lambda state: state.app.jinja_env.globals.update(
    relation_state_label=relations.state_label, relation_event_labels=relations.EVENT_LABELS,
    relation_can=relations.can))

SUPPLIER = "/organisations/<siren>/fournisseurs/<supplier>"
# Each action of the client on a relation: the service, whether a reason is asked,
# and the French of its page.
ACTIONS = {
    "suspendre": ("suspend", True, "Suspendre la relation"),
    "cloturer": ("close", True, "Clôturer la relation"),
    "reactiver": ("reactivate", False, "Réactiver la relation"),
}
MAX_CATEGORY = 80


def _relation_of(siren: str, supplier: str, *, admin: bool = False
                 ) -> tuple[CompanyAccess, Relation, Company]:
    access = admin_required(siren) if admin else member_required(siren)
    found = queries.find_relation(access.company.id, supplier) if ascii_digits(supplier) else None
    if found is None:
        abort(404)
    relation, company = found
    return access, relation, company


def _detail_url(access: CompanyAccess, company: Company) -> str:
    return url_for("supplier_dossier.detail", siren=access.company.siren, supplier=company.siren)


@bp.get(SUPPLIER)
@login_required
def detail(siren: str, supplier: str) -> ResponseReturnValue:
    access, relation, company = _relation_of(siren, supplier)
    today = clock.today()
    context: dict[str, Any] = {
        "access": access, "client": access.company, "supplier": company, "relation": relation,
        "today": today, "compliance": None, "slots": [], "sites": None, "scope": [],
        "history": queries.relation_history(relation)}
    if relation.state != RelationState.CLOSED:
        context["scope"] = queries.scope_establishments(relation)
    if shows_documents(relation):
        rules = relation_rules(relation)
        visible = visible_types(rules, relations.shared_types(relation.id))
        context["compliance"] = relation_compliance(relation, today, rules)
        context["slots"], context["sites"] = queries.dossier_slots(
            relation, visible, today, page=page_number())
    return render("supplier_dossier/detail.html", "supplier_dossier/_dossier.html", **context)


@bp.get(SUPPLIER + "/documents/<int:document_id>/fichier")
@login_required
def download(siren: str, supplier: str, document_id: int) -> ResponseReturnValue:
    """One file of a visible slot, recorded as read by the client before it leaves."""
    access, relation, company = _relation_of(siren, supplier)
    if not shows_documents(relation):
        abort(404)
    visible = visible_types(relation_rules(relation), relations.shared_types(relation.id))
    found = queries.readable_document_of(relation, visible, document_id)
    if found is None:
        abort(404)
    document, siret = found
    name = download_name(document, company.siren, siret)
    if storage().exists(document.sha256):
        record_access(access.company, signed_in_user(), [document], "download")
        db.session.commit()
    # A missing file answers 500 there, and nothing was recorded.
    return send_document_file(document, name, inline=False)


@bp.get(SUPPLIER + "/dossier.zip")
@login_required
def zip(siren: str, supplier: str) -> ResponseReturnValue:
    """The current documents of every required slot, with manifest.csv and manifest.json."""
    access, relation, company = _relation_of(siren, supplier)
    if not shows_documents(relation):
        abort(404)
    today = clock.today()
    required = visible_types(relation_rules(relation), set())
    documents = queries.current_required_documents(relation, required)
    try:
        archive = build_zip(company, documents, today)
    except MissingFile as missing:
        current_app.logger.error("%s", missing)
        abort_fr(500, "Le fichier d'un document est introuvable dans le stockage. "
                      "L'équipe d'exploitation doit lancer « flask storage check ».")
    filename = f"dossier-{company.siren}-{today.isoformat()}.zip"
    record_access(access.company, signed_in_user(), [document for document, _ in documents],
                  "zip")
    db.session.commit()
    response = send_file(archive, mimetype="application/zip", as_attachment=True,
                         download_name=filename, conditional=False, etag=False, max_age=0)
    response.headers["Content-Security-Policy"] = FILE_CONTENT_SECURITY_POLICY
    return response


def _action_route(action: str) -> str:
    return f"{SUPPLIER}/{action}"


@bp.route(_action_route("suspendre"), methods=["GET", "POST"], defaults={"action": "suspendre"})
@bp.route(_action_route("cloturer"), methods=["GET", "POST"], defaults={"action": "cloturer"})
@bp.route(_action_route("reactiver"), methods=["GET", "POST"], defaults={"action": "reactiver"})
@login_required
def action(siren: str, supplier: str, action: str) -> ResponseReturnValue:
    """Suspend, close or reactivate: a confirmation page (a dialog for htmx), then the change."""
    access, relation, company = _relation_of(siren, supplier, admin=True)
    service, needs_reason, title = ACTIONS[action]
    form = ReasonForm()
    context: dict[str, Any] = {
        "access": access, "client": access.company, "supplier": company, "relation": relation,
        "action": action, "title": title, "needs_reason": needs_reason, "form": form,
        "possible": relations.can(relation, service)}
    if request.method == "GET":
        return render("supplier_dossier/action.html", "supplier_dossier/_action_dialog.html",
                      **context)
    detail_url = _detail_url(access, company)
    name = company.name
    if not form.validate():
        return _action_errors(context)
    try:
        if service == "suspend":
            relations.suspend(relation, current_user, form.reason.data or "")
        elif service == "close":
            relations.close(relation, current_user, form.reason.data or "")
        else:
            relation = relations.reactivate(relation, current_user)
    except relations.RelationError as error:
        db.session.rollback()
        if error.field == "reason":
            form.reason.errors = [str(error)]
            return _action_errors(context)
        flash(str(error), "error")
        return redirect_after_post(detail_url)
    reinvited = relation.state == RelationState.INVITED
    db.session.commit()
    flash(_ACTION_DONE[service if not reinvited else "reinvite"].format(name=name), "success")
    return redirect_after_post(detail_url)


_ACTION_DONE = {
    "suspend": "Relation avec {name} suspendue. Le fournisseur lit la raison sur sa page "
               "« Mes clients ».",
    "close": "Relation avec {name} clôturée. Seul son historique reste visible.",
    "reactivate": "Relation avec {name} réactivée.",
    "reinvite": "Relation avec {name} rouverte : le fournisseur doit accepter à nouveau "
                "l'invitation avant que son dossier vous soit visible.",
}


def _action_errors(context: dict) -> ResponseReturnValue:
    if is_htmx():
        return render_fragment("supplier_dossier/_action_form.html", 422, **context)
    return render("supplier_dossier/action.html", "supplier_dossier/_action_form.html", 422,
                  **context)


@bp.route(SUPPLIER + "/references", methods=["GET", "POST"])
@login_required
def references(siren: str, supplier: str) -> ResponseReturnValue:
    """The client's own references for this supplier (never shown to the supplier)."""
    access, relation, company = _relation_of(siren, supplier, admin=True)
    form = ReferencesForm(obj=relation if request.method == "GET" else None)
    context: dict[str, Any] = {
        "access": access, "client": access.company, "supplier": company, "relation": relation,
        "form": form, "categories": _known_categories(access.company.id)}
    if request.method == "GET":
        return render("supplier_dossier/references.html", "supplier_dossier/_references_form.html",
                      **context)
    detail_url = _detail_url(access, company)
    name = company.name
    if not form.validate():
        return render("supplier_dossier/references.html",
                      "supplier_dossier/_references_form.html", 422, **context)
    try:
        relations.update_references(relation, current_user, relations.References(
            supplier_code=form.supplier_code.data, contract_ref=form.contract_ref.data or "",
            category=form.category.data or "", description=form.description.data or "",
            tracking_end=form.tracking_end.data))
    except relations.RelationError as error:
        db.session.rollback()
        field = getattr(form, error.field or "", None)
        if field is not None:
            field.errors = [str(error)]
        else:
            context["form_error"] = str(error)
        return render("supplier_dossier/references.html",
                      "supplier_dossier/_references_form.html", 422, **context)
    db.session.commit()
    flash(f"Références du fournisseur {name} enregistrées.", "success")
    return redirect_after_post(detail_url)


def _known_categories(client_id: int) -> list[str]:
    """The purchase categories the client uses, in its relations or its requirement sets."""
    used = db.session.scalars(
        select(Relation.category).where(Relation.client_id == client_id, Relation.category != "")
        .distinct())
    return sorted(set(used) | {c for c in client_rules(client_id) if c})


@bp.route("/organisations/<siren>/exigences", methods=["GET", "POST"])
@login_required
def requirements(siren: str) -> ResponseReturnValue:
    """What the client requires of its suppliers: the default set and per-category sets."""
    access = member_required(siren) if request.method == "GET" else admin_required(siren)
    if request.method == "GET":
        return _requirements_page(access)
    category = request.form.get("category", "").strip()
    creating = request.form.get("new") == "1"
    rules = [Rule(code, request.form.get(f"level_{code}") or spec.level.value)
             for code, spec in CATALOGUE.items() if request.form.get(f"type_{code}")]
    posted = {"category": category, "new": creating,
              "rules": {rule.doc_type: rule.level for rule in rules}}
    client = access.company
    error = _category_problem(client.id, category, creating, rules)
    if error is None:
        lock_company(client.id)
        try:
            checked = set_requirements(client, category, rules)
        except RequirementError as refused:
            error = str(refused)
    if error is not None:
        db.session.rollback()
        return _requirements_page(access, status=422, posted=posted, error=error)
    audit(client.id, current_user, "requirements_set", category=category,
          rules=[f"{rule.doc_type}:{rule.level}" for rule in checked])
    client_siren = client.siren
    db.session.commit()
    if not category:
        flash("Exigences par défaut enregistrées.", "success")
    elif checked:
        flash(f"Exigences de la catégorie « {category} » enregistrées.", "success")
    else:
        flash(f"Catégorie « {category} » retirée : ses fournisseurs suivent les exigences "
              "par défaut.", "success")
    return redirect_after_post(url_for("supplier_dossier.requirements", siren=client_siren))


def _category_problem(client_id: int, category: str, creating: bool,
                      rules: list[Rule]) -> str | None:
    if len(category) > MAX_CATEGORY:
        return f"{MAX_CATEGORY} caractères au plus pour la catégorie."
    if not creating:
        return None
    if not category:
        return "Indiquez la catégorie d'achat."
    if not rules:
        return "Cochez au moins un document pour cette catégorie."
    if category in client_rules(client_id):
        return (f"La catégorie « {category} » a déjà ses exigences : modifiez-les dans sa "
                "section.")
    return None


def _requirements_page(access: CompanyAccess, *, status: int = 200, posted: dict | None = None,
                       error: str | None = None) -> ResponseReturnValue:
    client = access.company
    sets = client_rules(client.id)
    if "" not in sets:
        sets = {"": default_rules(), **sets}
    followers: dict[str, int] = {category: count for category, count in db.session.execute(
        select(Relation.category, func.count(Relation.id))
        .where(Relation.client_id == client.id,
               Relation.state != RelationState.CLOSED.value)
        .group_by(Relation.category))}
    own_sets = {c for c in sets if c}
    counts = {c: followers.get(c, 0) for c in own_sets}
    counts[""] = sum(n for c, n in followers.items() if c not in own_sets)
    return render("supplier_dossier/requirements.html", "supplier_dossier/_requirements.html",
                  status, access=access, client=client, company=client, sets=sets,
                  counts=counts, catalogue_types=list(CATALOGUE.values()), Level=Level,
                  categories=sorted({c for c in followers if c} - own_sets),
                  posted=posted, error=error)
