"""The sync switch as a supplier admin lives it: menu, confirmation, result."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from ..core.tenancy import CompanyAccess, admin_required, member_required
from ..dossier.catalogue import CATALOGUE
from ..extensions import db
from ..htmx import is_htmx, render, render_fragment
from ..models import Establishment, ProviderLink, SyncRun
from ..providers import PROVIDERS, supplied_types
from . import wording
from .engine import sync_company
from .state import run_lines, run_summary, sync_state
from .switch import SwitchError, set_sync_enabled

bp = Blueprint("sync", __name__)
bp.record_once(lambda state: state.app.jinja_env.globals.update(
    run_summary=run_summary, outcome_label=wording.outcome_label,
    outcome_badge=wording.outcome_badge, trigger_label=wording.trigger_label))

ACTIONS = {"desactiver": False, "reactiver": True}


def _linked(access: CompanyAccess, provider: str) -> ProviderLink:
    if provider not in PROVIDERS:
        abort(404)
    link = db.session.scalar(select(ProviderLink).where(
        ProviderLink.company_id == access.company.id, ProviderLink.provider == provider))
    if link is None or not link.linked:
        abort(404)
    return link


def _admin(siren: str, provider: str) -> tuple[CompanyAccess, ProviderLink]:
    access = admin_required(siren)
    return access, _linked(access, provider)


@bp.get("/organisations/<siren>/synchronisation/<provider>/<action>")
@login_required
def confirm(siren: str, provider: str, action: str) -> ResponseReturnValue:
    if action not in ACTIONS:
        abort(404)
    access, link = _admin(siren, provider)
    establishments = db.session.scalar(
        select(func.count(Establishment.id)).where(Establishment.company_id == access.company.id)
    ) or 0
    types = [spec for code, spec in CATALOGUE.items() if code in supplied_types(provider)]
    return render(
        "sync/confirm.html", "sync/_confirm_dialog.html",
        access=access, company=access.company, link=link, provider=provider,
        provider_name=PROVIDERS[provider], action=action, enable=ACTIONS[action],
        establishments=establishments, types=types,
    )


@bp.post("/organisations/<siren>/synchronisation/<provider>/<action>")
@login_required
def toggle(siren: str, provider: str, action: str) -> ResponseReturnValue:
    if action not in ACTIONS:
        abort(404)
    access, _link = _admin(siren, provider)
    enable = ACTIONS[action]
    name = PROVIDERS[provider]
    company_id, company_siren = access.company.id, access.company.siren
    try:
        result = set_sync_enabled(company_id, provider, enable, current_user,
                                  run_deadline=current_app.config["SYNC_REACTIVATION_DEADLINE"])
    except SwitchError as error:
        flash(str(error), "error")
    else:
        if not result.changed:
            flash(wording.switch_unchanged(name, enable), "info")
        elif not enable:
            flash(wording.switched_off(name), "success")
        elif result.report is not None:
            message, category = wording.reactivated(name, result.report.outcome,
                                                    result.report.summary())
            flash(message, category)
    if not is_htmx():
        return redirect(url_for("organisations.company", siren=company_siren), code=303)
    # htmx stays on the company page: new state in place, the menu out of band.
    access = admin_required(company_siren)
    return render_fragment("organisations/_sync_swap.html", access=access,
                           company=access.company, sync=sync_state(access.company.id))


def _company_page(siren: str) -> Response:
    """After a change: the company page, or for htmx its sync state and the menu in place."""
    if not is_htmx():
        return redirect(url_for("organisations.company", siren=siren), code=303)
    access = member_required(siren)
    return render_fragment("organisations/_sync_swap.html", access=access,
                           company=access.company, sync=sync_state(access.company.id))


@bp.post("/organisations/<siren>/synchronisation/<provider>/maintenant")
@login_required
def run_now(siren: str, provider: str) -> ResponseReturnValue:
    """"Synchroniser maintenant": the company's sync with this provider, at once."""
    access, link = _admin(siren, provider)
    name = PROVIDERS[provider]
    company_id, company_siren = access.company.id, access.company.siren
    if not link.sync_enabled:
        flash(f"La synchronisation {name} est désactivée : réactivez-la pour lancer une "
              "synchronisation.", "error")
        return _company_page(company_siren)
    report = sync_company(company_id, provider, trigger="manual", user_id=current_user.id)
    if report.outcome == "success":
        flash(f"Synchronisation {name} terminée : {report.summary().rstrip('.')}.", "success")
    elif report.outcome == "failed":
        flash(f"{report.summary().rstrip('.')} : la synchronisation a échoué, rien n'a changé.",
              "error")
    else:
        flash(report.summary(), "info")
    if report.run_id is not None and not is_htmx():
        # Without JavaScript the report itself is the next page.
        return redirect(url_for("sync.run_detail", siren=company_siren, provider=provider,
                                run_id=report.run_id), code=303)
    return _company_page(company_siren)


@bp.get("/organisations/<siren>/synchronisation/<provider>/executions/<int:run_id>")
@login_required
def run_detail(siren: str, provider: str, run_id: int) -> ResponseReturnValue:
    """Every document a run touched, as the engine recorded it."""
    access = member_required(siren)
    if provider not in PROVIDERS:
        abort(404)
    run = db.session.scalar(select(SyncRun).where(
        SyncRun.id == run_id, SyncRun.company_id == access.company.id,
        SyncRun.provider == provider))
    if run is None:
        abort(404)
    return render("sync/run.html", "sync/_run_lines.html", access=access,
                  company=access.company, run=run, provider_name=PROVIDERS[provider],
                  lines=run_lines(run))
