"""Every French sentence about synchronisation: outcomes, counts, provider errors, the switch.

The engine, the switch, the views, the CLI and the templates word runs only
through this module; connectors raise coded errors (`ProviderError`) and the
engine returns `Outcome`s, so there is one place to read or change them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from ..core.dates import EARLIEST, LATEST
from ..core.text import decimal_fr, format_date, plural, size_fr
from ..dossier import pdf
from ..dossier.catalogue import CATALOGUE
from ..identifiers import format_siret
from ..providers import PROVIDERS
from ..providers.records import ErrorCode, ProviderError
from .outcomes import Outcome

if TYPE_CHECKING:
    from ..models import Document, SyncRunItem

# -- outcomes ----------------------------------------------------------------------

# The history's "Résultat" column: (label, badge class).
_RECORDED: dict[Outcome, tuple[str, str]] = {
    Outcome.SUCCESS: ("réussie", "badge-valid"),
    Outcome.FAILED: ("échec", "badge-expired"),
    Outcome.CANCELLED: ("annulée", "badge-pending"),
}
# The CLI's status column.
_CLI_STATUS: dict[Outcome, str] = {
    Outcome.SUCCESS: "ok",
    Outcome.FAILED: "ÉCHEC",
    Outcome.CANCELLED: "annulé",
}
TRIGGERS = {"periodic": "automatique", "manual": "manuelle", "reactivation": "réactivation"}


def outcome_label(outcome: str) -> str:
    """"réussie", "échec", "annulée" for a recorded run."""
    return _RECORDED[Outcome(outcome)][0]


def outcome_badge(outcome: str) -> str:
    return _RECORDED[Outcome(outcome)][1]


def cli_status(outcome: str) -> str:
    return _CLI_STATUS.get(Outcome(outcome), "—")


def trigger_label(trigger: str) -> str:
    return TRIGGERS.get(trigger, trigger)


def no_run(outcome: Outcome, name: str) -> str:
    """Why no run took place."""
    if outcome is Outcome.DISABLED:
        return f"Synchronisation {name} désactivée : aucun appel n'a été fait."
    if outcome is Outcome.OFF:
        return f"{name} n'est pas configuré sur ce portail."
    if outcome is Outcome.NOT_LINKED:
        return f"Aucun compte {name} pour cette entreprise."
    if outcome is Outcome.BUSY:
        return (f"Une synchronisation {name} de cette entreprise est déjà en cours : "
                "ses résultats apparaîtront dans l'historique.")
    raise ValueError(f"{outcome} is the outcome of a run")


def summary(outcome: Outcome, name: str, counts: Mapping[str, int],
            error: str | None) -> str:
    """The French sentence people read after a run, or about the run that did not happen."""
    if outcome in (Outcome.FAILED, Outcome.CANCELLED):
        return error or f"La synchronisation {name} a échoué."
    if outcome is Outcome.SUCCESS:
        return count_sentence(counts, name)
    return no_run(outcome, name)


def count_sentence(counts: Mapping[str, int], provider_name: str) -> str:
    """"12 documents importés, 2 remplacés par une version plus récente, …" (non-zero parts)."""
    parts = []
    if counts["imported"]:
        parts.append(plural(counts["imported"], "document importé", "documents importés"))
    if counts["replaced"]:
        parts.append(plural(counts["replaced"], "remplacé par une version plus récente",
                            "remplacés par une version plus récente"))
    if counts["kept"]:
        parts.append(plural(counts["kept"], "conservé (votre version est plus récente)",
                            "conservés (votre version est plus récente)"))
    if counts["awaiting"]:
        parts.append(f"{counts['awaiting']} en attente de validation chez {provider_name}")
    if counts["refused"]:
        parts.append(plural(counts["refused"], f"refusé par {provider_name}",
                            f"refusés par {provider_name}"))
    if counts["skipped"]:
        parts.append(plural(counts["skipped"], "ignoré", "ignorés"))
    if not parts:
        return f"Aucun changement : le dossier est à jour avec {provider_name}."
    return ", ".join(parts)


def recorded_summary(outcome: str, error: str | None, counts: Mapping[str, int],
                     name: str) -> str:
    """A stored run's line in the history."""
    if outcome == Outcome.SUCCESS:
        return count_sentence(counts, name)
    return error or outcome_label(outcome).capitalize()


# -- why a run failed or was cancelled ----------------------------------------------------


def cancelled(name: str) -> str:
    return f"Synchronisation {name} désactivée pendant son exécution : rien n'a été appliqué."


def internal_error(name: str) -> str:
    return (f"Erreur interne pendant la synchronisation {name} : "
            "aucun changement n'a été appliqué.")


def account_gone(name: str) -> str:
    return f"Aucun compte {name} ne correspond plus au SIREN de l'entreprise."


def run_deadline(name: str, seconds: float) -> str:
    return (f"La synchronisation {name} n'a pas abouti dans le délai de "
            f"{decimal_fr(seconds)} s : rien n'a été appliqué")


def _from(name: str) -> str:
    """French elision: "d'Actradis", "de Provigis"."""
    return f"d'{name}" if name[:1].lower() in "aeiouyàâäéèêëîïôöùûüœ" else f"de {name}"


def provider_error(error: ProviderError, name: str, *, run_seconds: float | None = None) -> str:
    """The sentence a supplier admin reads for a failed provider call.

    `run_seconds`: the run's own deadline, when one was set (a reactivation).
    """
    code, status, source = error.code, error.status, _from(name)
    if code is ErrorCode.DEADLINE:
        if error.limit is None and run_seconds is not None:
            return run_deadline(name, run_seconds)
        seconds = f" (délai de {decimal_fr(error.limit)} s dépassé)" if error.limit else ""
        return f"{name} met trop de temps à répondre : appel interrompu{seconds}"
    if code in (ErrorCode.UNREACHABLE, ErrorCode.TIMEOUT):
        return f"{name} ne répond pas"
    if code is ErrorCode.SUBSCRIPTION:
        return f"Abonnement {name} inactif"
    if code is ErrorCode.UNAUTHORIZED:
        return f"{name} refuse l'accès du portail (identifiants de l'API à vérifier)"
    if code is ErrorCode.THROTTLED:
        return f"{name} est surchargé et demande de patienter : nouvel essai plus tard"
    if code is ErrorCode.REDIRECT:
        return (f"{name} renvoie vers une autre adresse, que le portail ne suit pas "
                "(adresse de l'API à vérifier)")
    if code is ErrorCode.MALFORMED:
        return f"{name} a envoyé une réponse illisible ou incomplète"
    if code is ErrorCode.JSON_TOO_LARGE:
        limit = f" de {size_fr(int(error.limit))}" if error.limit else ""
        return f"{name} a envoyé une réponse trop volumineuse (limite{limit} dépassée)"
    if code is ErrorCode.CHECKSUM:
        return f"Un fichier reçu {source} est corrompu (empreinte SHA-256 différente)"
    if code is ErrorCode.NOT_PDF:
        return f"Un fichier reçu {source} n'est pas un PDF"
    if code is ErrorCode.TOO_LARGE:
        return f"Un fichier reçu {source} {_too_large(error)}"
    if code is ErrorCode.HTTP:
        suffix = f" (HTTP {status})" if status is not None else ""
        if status is not None and status >= 500:
            return f"{name} est en erreur{suffix}"
        return f"{name} a refusé la demande du portail{suffix}"
    raise ValueError(f"unknown provider error code {code!r}")


def _too_large(error: ProviderError) -> str:
    limit = f" ({size_fr(int(error.limit))})" if error.limit else ""
    return f"dépasse la taille annoncée ou la taille maximale{limit}"


# -- per-document lines of a run's report (phase 1) ------------------------------------------


def unknown_type(code: str, where: str) -> str:
    return f"Type inconnu « {code} » ({where}) : ignoré."


def establishment_missing(label: str, siret: str) -> str:
    return f"{label} : l'établissement {siret} n'est pas sur le portail."


def bad_dates(label: str, where: str, problem: str) -> str:
    return f"{label} ({where}) : {problem}, ignoré."


NO_END_DATE = "sans date de fin de validité"
INCOHERENT_DATES = "dates de validité incohérentes"


def date_out_of_range(label: str, where: str, raw: str) -> str:
    """A provider record whose date is outside the accepted range (`hiveo.core.dates`)."""
    try:
        shown = format_date(date.fromisoformat(raw))
    except ValueError:
        shown = raw
    return (f"{label} ({where}) : date {shown} hors de la plage acceptée "
            f"({EARLIEST.year} à {LATEST.year}), ignoré.")


# -- per-document lines of a run's report (phase 2: what applying decided) -----------------


def imported(label: str, issued: date) -> str:
    return f"{label} : importé (délivré le {format_date(issued)})."


def replaced(label: str, archived: Document | None, name: str, issued: date) -> str:
    """"… : votre dépôt du 20/11/2026 a été archivé, la version Actradis du 01/12 …"."""
    return (f"{label} : {_archived_version(archived)} a été archivé, "
            f"la version {name} du {format_date(issued)} est plus récente.")


def _archived_version(archived: Document | None) -> str:
    """"votre dépôt du 20/11/2026" or "la version Actradis du 01/10/2026": what was archived."""
    if archived is None:
        return "l'ancienne version"
    if archived.source == "manual":
        return f"votre dépôt du {format_date(archived.uploaded_at)}"
    provider = PROVIDERS.get(archived.source, archived.source)
    return f"la version {provider} du {format_date(archived.issue_date)}"


def file_not_received(label: str) -> str:
    return f"{label} : fichier non reçu, repris à la prochaine synchronisation."


def awaiting(label: str, name: str) -> str:
    return f"{label} : en attente de validation chez {name}."


def refused_at_provider(label: str, name: str, reason: str | None) -> str:
    return f"{label} : refusé par {name}" + (f" : {reason}." if reason else ".")


def kept_newer(label: str) -> str:
    return f"{label} : votre version est plus récente, elle est conservée."


def lower_revision(label: str, name: str) -> str:
    return f"{label} : {name} propose une révision antérieure, ignorée."


# The isolated PDF check's verdicts (hiveo.dossier.pdf), as the codes run items store.
_PDF_CODES = {
    pdf.ACTIVE: "active",
    pdf.ENCRYPTED: "encrypted",
    pdf.NO_PAGE: "no_page",
    pdf.UNREADABLE: "unreadable",
    pdf.TOO_COMPLEX: "too_complex",
    pdf.NOT_A_PDF: "not_a_pdf",
    pdf.EMPTY: "empty",
}
# Those codes said of a provider's file; "too_large" is worded with its limit.
_FILE_REASONS = {
    "active": "contient du JavaScript ou un autre contenu actif (pièce jointe, action)",
    "encrypted": "il est protégé (chiffré)",
    "no_page": "il ne contient aucune page",
    "unreadable": "il est illisible ou endommagé",
    "too_complex": "il est trop complexe pour être vérifié",
    "not_a_pdf": "ce n'est pas un PDF",
    "empty": "il est vide",
}


def file_refused(label: str, where: str, reason: str) -> str:
    return f"{label} ({where}) : fichier refusé : {reason}, non appliqué."


def pdf_code(message: str) -> str:
    """The code a run item stores for the PDF check's verdict (its message if unknown)."""
    return _PDF_CODES.get(message, message)


def file_problem_code(error: ProviderError) -> tuple[str, str | None]:
    """(code, value) a run item stores for a file refused before its content was checked."""
    if error.code is ErrorCode.NOT_PDF:
        return "not_a_pdf", None
    if error.code is ErrorCode.TOO_LARGE:
        return "too_large", str(int(error.limit)) if error.limit else None
    raise ValueError(f"{error.code} is not about a file's content")


def file_reason(code: str, value: str | None = None) -> str:
    """Why a provider file was refused, from a run item's code (and limit, in bytes)."""
    if code == "too_large":
        limit = f" ({size_fr(int(value))})" if value and value.isdigit() else ""
        return f"il dépasse la taille annoncée ou la taille maximale{limit}"
    return _FILE_REASONS.get(code, code.rstrip("."))


def pdf_reason(message: str) -> str:
    """Why the PDF check refused a provider file, from the check's verdict for uploaders."""
    return file_reason(pdf_code(message))


def file_problem(error: ProviderError) -> str:
    """Why a provider file was refused before its content was checked."""
    return file_reason(*file_problem_code(error))


# -- a run's report, from its items (hiveo.models.SyncRunItem) --------------------------------

# Why a provider's dates make no document here: the codes run items store.
_DATE_PROBLEMS = {"no_end_date": NO_END_DATE, "incoherent_dates": INCOHERENT_DATES}

# How the run page groups items: (label, icon) per kind; other kinds were skipped.
_ITEM_GROUPS = {
    "imported": ("Importé", "download"),
    "replaced": ("Remplacé", "refresh-cw"),
    "kept": ("Conservé", "shield-check"),
    "awaiting": ("En attente chez la plateforme", "clock"),
    "refused": ("Refusé par la plateforme", "circle-x"),
    "file_refused": ("Fichier refusé", "circle-x"),
}
SKIPPED = ("Ignoré", "circle-dashed")


def item_group(kind: str) -> tuple[str, str]:
    """(label, icon) of an item's kind on the run page: "Importé", "Conservé", "Ignoré"..."""
    return _ITEM_GROUPS.get(kind, SKIPPED)


def line_group(text: str) -> tuple[str, str, str]:
    """(kind, label, icon) of a line stored by a run older than run items, by its wording."""
    for kind, marker in (("replaced", "a été archivé"), ("imported", ": importé"),
                         ("kept", "votre version est plus récente"),
                         ("awaiting", "en attente de validation"), ("refused", "refusé par")):
        if marker in text:
            return (kind, *item_group(kind))
    return ("skipped", *SKIPPED)


def _item_label(item: SyncRunItem) -> str:
    if item.doc_type is not None and item.doc_type in CATALOGUE:
        return CATALOGUE[item.doc_type].label
    return item.provider_code or item.doc_type or "Document"


def _item_where(item: SyncRunItem) -> str:
    return f"établissement {format_siret(item.siret)}" if item.siret else "entreprise"


def item_line(item: SyncRunItem, name: str, archived: Document | None = None) -> str:
    """The sentence for one document a run touched; `name` is the provider's.

    `archived`: the document a replacement archived, when the caller holds it
    (otherwise the item's loaded `archived`, or "l'ancienne version").
    """
    kind, label, where = item.kind, _item_label(item), _item_where(item)
    both = f"{label} ({where})"
    issued = item.issue_date
    if kind == "imported":
        return imported(both, issued) if issued else f"{both} : importé."
    if kind == "replaced":
        if archived is None and item.archived_id is not None:
            archived = item.archived
        return (replaced(both, archived, name, issued) if issued else
                f"{both} : {_archived_version(archived)} a été archivé.")
    if kind == "kept":
        return kept_newer(both)
    if kind == "awaiting":
        return awaiting(both, name)
    if kind == "refused":
        return refused_at_provider(both, name, item.reason)
    if kind == "lower_revision":
        return lower_revision(both, name)
    if kind == "file_missing":
        return file_not_received(both)
    if kind == "unknown_type":
        return unknown_type(item.provider_code or "", where)
    if kind == "establishment_missing":
        return establishment_missing(label, format_siret(item.siret or ""))
    if kind == "bad_dates":
        return bad_dates(label, where, _DATE_PROBLEMS.get(item.reason or "", item.reason or ""))
    if kind == "date_out_of_range":
        return date_out_of_range(label, where, item.value or "")
    if kind == "file_refused":
        return file_refused(label, where, file_reason(item.reason or "", item.value))
    raise ValueError(f"unknown run item kind {kind!r}")


# -- the switch -------------------------------------------------------------------------------


def unknown_provider(provider: str) -> str:
    return f"Fournisseur inconnu : {provider}."


def no_account_to_switch(name: str) -> str:
    return (f"L'entreprise n'a pas de compte {name} : il n'y a pas de "
            "synchronisation à changer.")


def switch_unchanged(name: str, enabled: bool, company: str | None = None) -> str:
    if company is None:
        state = "active" if enabled else "désactivée"
        return f"La synchronisation {name} était déjà {state} : rien n'a changé."
    state = "activée" if enabled else "désactivée"
    return f"Synchronisation {name} déjà {state} pour {company} : rien n'a changé."


def switched_off(name: str) -> str:
    return (f"Synchronisation {name} désactivée. Aucun document n'a été supprimé ; "
            f"vous pouvez désormais déposer vous-même les documents que fournissait {name}.")


def switched(name: str, enabled: bool, company: str) -> str:
    """The CLI's line after a change."""
    return f"Synchronisation {name} {'activée' if enabled else 'désactivée'} pour {company}."


STAYS_ON = "la synchronisation reste active et sera retentée"


def reactivated(name: str, outcome: Outcome, text: str) -> tuple[str, str]:
    """(message, flash category) after turning sync on again; `text` is the run's summary."""
    if outcome is Outcome.CANCELLED:
        # Someone turned it off again while the run was fetching: that wins.
        return text, "info"
    if outcome is Outcome.FAILED:
        return f"{text.rstrip('.')} : {STAYS_ON}.", "error"
    if outcome is Outcome.BUSY:
        return f"Synchronisation {name} réactivée. {text}", "success"
    return f"Synchronisation {name} réactivée : {text.rstrip('.')}.", "success"


def disabled_nothing_to_do(name: str, company: str) -> str:
    return f"Synchronisation {name} désactivée pour {company} : rien à faire."


def not_configured(name: str) -> str:
    return f"{name} n'est pas configuré (variable d'environnement de son URL)."
