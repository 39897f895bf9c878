"""The reminder run (issue 16, DOMAIN.md 6): no Flask request in it, safe to run twice.

Phase 1 reads suppliers in batches of `batch_size` (a constant number of SQL
statements per batch, whatever the number of documents, relations or
people) and works out what each person should be told today: the supplier
admins (required documents expiring, expired, missing, refused; pending
invitations, with the invited contact), the client's admins (a supplier that
never answered) and the client's users (the weekly digest of suppliers that
became non-compliant, unless they opted out).

Phase 2 writes, a chunk of recipients per transaction: each reminder's row
(unique: recipient, kind, subject, step) with its outbox message and a line
in each relation's history, together. Who receives something is decided by
one more row per person and day (kind "daily"): inserting it with ON
CONFLICT DO NOTHING is what serialises two concurrent runs (PostgreSQL makes
the second insert wait for the first transaction and then skip; SQLite
takes the write lock at BEGIN). So a person receives at most one message a
day, and a reminder leaves at most once; what could not be sent today (a
second run the same day) is sent by tomorrow's run, the schedule's steps
being windows (schedule.py).

The digest needs to know who was non-compliant at the previous digest: each
weekly computation stores it as rows of kind "digest-run" (one per client
and week) and "digest-nc" (one per non-compliant relation and week), under
the pseudo-recipient "client:<id>".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import Table, func, select, text, tuple_
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased

from ..core.clock import PARIS
from ..core.text import NNBSP, format_date, plural, typo_fr
from ..dossier.catalogue import CATALOGUE, Level
from ..dossier.queries import build_slots
from ..dossier.states import State, document_state, sql_dates
from ..extensions import begin_write, db
from ..identifiers import format_siren, format_siret
from ..mail.outbox import enqueue_many, render_message
from ..models import (
    Company,
    Document,
    Establishment,
    Membership,
    Relation,
    RelationState,
    Reminder,
    Role,
    User,
    name_key,
    utcnow,
)
from ..relations.compliance import compliance_figures
from ..relations.requirements import suppliers_requirements
from ..relations.services import record_reminders
from . import schedule

BATCH_SIZE = 200
# Rows per INSERT statement (well under SQLite's and PostgreSQL's parameter limits).
_ROWS_PER_INSERT = 1000
_ITEMS_PER_WRITE = 2000
_LIVE = (RelationState.ACTIVE.value, RelationState.INVITED.value)

SECTIONS = {
    "documents": "Documents à mettre à jour",
    "invitations": "Invitations en attente de votre réponse",
    "unanswered": "Fournisseurs qui n'ont pas répondu à votre invitation",
    "digest": "Fournisseurs devenus non conformes depuis le dernier récapitulatif",
}
# Kinds that are legal reminders (cannot be turned off) and the ones about a relation's
# invitation: both are lines in the relations' history.
LEGAL_KINDS = ("expiring", "expired", "missing", "refused")
HISTORY_KINDS = (*LEGAL_KINDS, "invitation", "unanswered")


@dataclass
class RunReport:
    """What one run did; `summary()` is the line the command prints."""

    today: date
    suppliers: int = 0
    batches: int = 0
    messages: int = 0
    reminders: int = 0
    recipients_deferred: int = 0

    def summary(self) -> str:
        parts = [_count(self.messages, "courriel"), _count(self.reminders, "relance"),
                 _count(self.suppliers, "fournisseur")]
        if self.recipients_deferred:
            # Already sent a message today (an earlier run): the rest leaves tomorrow.
            parts.append(_count(self.recipients_deferred, "destinataire") + " déjà relancé"
                         + ("s" if self.recipients_deferred > 1 else "")
                         + " aujourd'hui, la suite demain")
        return ", ".join(parts)


def _count(number: int, word: str) -> str:
    text = plural(number, word)
    head, _, tail = text.partition(" ")
    return f"{int(head):,}".replace(",", NNBSP) + " " + tail


@dataclass(frozen=True)
class Line:
    """One sentence of a message, under its section and its company's heading."""

    section: str
    group: str
    group_link: str
    text: str
    link: str = ""
    # Lines about one document slot: a refusal and a "missing" are said once.
    slot: str = ""


@dataclass(frozen=True)
class Item:
    """One reminder for one person: its unique key and what the message says."""

    recipient: str
    kind: str
    subject: str
    step: str
    lines: tuple[Line, ...]
    relation_ids: tuple[int, ...] = ()
    # Reminder.relation_id: the one relation it is about, when there is one.
    relation_id: int | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.recipient, self.kind, self.subject, self.step)


@dataclass
class _Collected:
    items: list[Item] = field(default_factory=list)
    # client id -> (name, SIREN)
    clients: dict[int, tuple[str, str]] = field(default_factory=dict)
    # client id -> relation id -> (supplier name, SIREN): active and non-compliant today
    non_compliant: dict[int, dict[int, tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(dict))
    # (client id, relation id, supplier name, supplier SIREN, invited on)
    unanswered: list[tuple[int, int, str, str, date]] = field(default_factory=list)


def send_reminders(today: date, batch_size: int = BATCH_SIZE,
                   progress: Callable[[str], None] | None = None) -> RunReport:
    """The whole run for `today`; what the command and the bench call."""
    report = RunReport(today)
    collected = _Collected()
    for supplier_ids in _supplier_batches(batch_size):
        _collect_suppliers(supplier_ids, today, collected)
        db.session.rollback()  # a read-only batch: end its transaction
        report.suppliers += len(supplier_ids)
        report.batches += 1
        if progress is not None:
            progress(f"Relances : lot {report.batches}, "
                     f"{_count(report.suppliers, 'fournisseur')} lus")
    client_ids = sorted(collected.clients)
    for start in range(0, len(client_ids), batch_size):
        _collect_clients(client_ids[start:start + batch_size], today, collected)
    by_recipient: dict[str, list[Item]] = defaultdict(list)
    for item in collected.items:
        by_recipient[item.recipient].append(item)
    for chunk in _chunks(by_recipient, batch_size):
        _write(chunk, today, report)
    return report


def _chunks(by_recipient: dict[str, list[Item]], batch_size: int
            ) -> Iterable[dict[str, list[Item]]]:
    """Recipients, `batch_size` at a time and at most _ITEMS_PER_WRITE reminders a chunk
    (the keys are looked up with one IN list: its parameters are bounded)."""
    chunk: dict[str, list[Item]] = {}
    items = 0
    for recipient in sorted(by_recipient):
        size = len(by_recipient[recipient])
        if chunk and (len(chunk) >= batch_size or items + size > _ITEMS_PER_WRITE):
            yield chunk
            chunk, items = {}, 0
        chunk[recipient] = by_recipient[recipient]
        items += size
    if chunk:
        yield chunk


# ---- Phase 1: reading ----


def _supplier_batches(batch_size: int) -> Iterable[list[int]]:
    """Suppliers with an active relation or a pending invitation, by id, a batch at a time."""
    last = 0
    while True:
        ids = list(db.session.scalars(
            select(Relation.supplier_id)
            .where(Relation.state.in_(_LIVE), Relation.supplier_id > last)
            .group_by(Relation.supplier_id).order_by(Relation.supplier_id)
            .limit(batch_size)))
        if not ids:
            return
        yield ids
        last = ids[-1]


def _base_url() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def _paris_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def _collect_suppliers(ids: list[int], today: date, out: _Collected) -> None:
    """What the suppliers of one batch must be told: eight statements at most."""
    client, supplier = aliased(Company), aliased(Company)
    live = (Relation.supplier_id.in_(ids), Relation.state.in_(_LIVE))
    figures = compliance_figures(*live)
    relations = db.session.execute(
        select(Relation.id, Relation.client_id, Relation.supplier_id, Relation.state,
               Relation.invited_at, Relation.contact_email,
               client.name.label("client_name"), client.siren.label("client_siren"),
               supplier.name.label("supplier_name"), supplier.siren.label("supplier_siren"),
               figures.c.unmet)
        .join(figures, figures.c.relation_id == Relation.id)
        .join(client, client.id == Relation.client_id)
        .join(supplier, supplier.id == Relation.supplier_id)
        .where(*live)
        .order_by(Relation.id), sql_dates(today)).all()
    requirements = suppliers_requirements(ids)
    types = {t for r in requirements.values() if not r.by_default for t in r.types}
    needs_places = any(t.level == Level.ESTABLISHMENT for r in requirements.values()
                       if not r.by_default for t in r.types.values())
    establishments: dict[int, list[Establishment]] = defaultdict(list)
    if needs_places:
        for establishment in db.session.scalars(
                select(Establishment).where(Establishment.company_id.in_(ids),
                                            Establishment.closed_at.is_(None))
                .order_by(Establishment.siret)):
            establishments[establishment.company_id].append(establishment)
    documents: dict[tuple[int, int | None], list[Document]] = defaultdict(list)
    if types:
        for document in db.session.scalars(
                select(Document).where(Document.company_id.in_(ids),
                                       Document.doc_type.in_(types),
                                       Document.archived_at.is_(None))):
            documents[(document.company_id, document.establishment_id)].append(document)
    admins: dict[int, list[str]] = defaultdict(list)
    for company_id, email in db.session.execute(
            select(Membership.company_id, User.email).join(User, User.id == Membership.user_id)
            .where(Membership.company_id.in_(ids), Membership.role == Role.ADMIN.value,
                   User.suspended_at.is_(None))
            .order_by(User.email)):
        admins[company_id].append(email.lower())

    base = _base_url()
    relations_of: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    names: dict[int, tuple[str, str]] = {}
    for row in relations:
        names[row.supplier_id] = (row.supplier_name, row.supplier_siren)
        out.clients[row.client_id] = (row.client_name, row.client_siren)
        if row.state == RelationState.ACTIVE:
            relations_of[row.supplier_id][row.client_name].append(row.id)
            if row.unmet:
                out.non_compliant[row.client_id][row.id] = (row.supplier_name,
                                                            row.supplier_siren)
        else:
            _invitation(row, today, admins.get(row.supplier_id, []), base, out)
    for supplier_id in ids:
        required = requirements[supplier_id]
        if required.by_default or not admins.get(supplier_id):
            continue  # no active client (or nobody to tell): nothing is required of it
        name, siren = names[supplier_id]
        group = f"{name} (SIREN {format_siren(siren)})"
        link = f"{base}/organisations/{siren}/documents"
        for doc_type, rule in required.types.items():
            # Each place required, with the clients that require it there: a client asking
            # for the company's document is not named on an establishment's, and back.
            places: list[tuple[Establishment | None, list[str]]] = [
                (None, rule.company_clients())]
            if rule.level == Level.ESTABLISHMENT:
                places += [(e, rule.establishment_clients(e.id))
                           for e in establishments.get(supplier_id, [])]
            for place, clients in places:
                if not clients:
                    continue
                relation_ids = tuple(sorted(rid for client_name in clients
                                            for rid in relations_of[supplier_id][client_name]))
                docs = [d for d in documents.get((supplier_id, place.id if place else None), [])
                        if d.doc_type == doc_type]
                slot = build_slots([CATALOGUE[doc_type]], place, docs, today)[0]
                for kind, subject, step, sentence in _slot_reminders(slot, today):
                    slot_key = f"{supplier_id}:{doc_type}:{place.id if place else '-'}"
                    line = Line("documents", group, link,
                                typo_fr(f"{sentence} Exigé par {', '.join(clients)}."),
                                slot=slot_key)
                    for email in admins[supplier_id]:
                        out.items.append(Item(email, kind, subject or f"slot:{slot_key}", step,
                                              (line,), relation_ids))


def _where(place: Establishment | None) -> str:
    if place is None:
        return ""
    return f" de l'établissement {place.name} (SIRET {format_siret(place.siret)})"


def _slot_reminders(slot, today: date) -> list[tuple[str, str, str, str]]:
    """(kind, subject, step, sentence) due for one required slot; subject "" = the slot."""
    label = slot.doc_type.label + _where(slot.establishment)
    if slot.pending:
        return []  # a new version awaits review: nothing for the supplier to do
    due: list[tuple[str, str, str, str]] = []
    for document in slot.refused:
        reason = (document.refusal_reason or "").strip() or "non précisé"
        when = format_date(document.reviewed_at or document.uploaded_at)
        due.append(("refused", f"document:{document.id}", "refused",
                    f"{label} : refusé le {when}. Motif : {reason}. "
                    "Déposez un nouveau document."))
    if slot.current:
        document = min(slot.current, key=lambda d: d.effective_end)
        end = document.effective_end
        step = schedule.expiry_step(end, today)
        expired = document_state(document, today) is State.EXPIRED
        if expired and step in (None, "d-30", "d-7"):
            step = "d0"  # the provider says it has expired before its date
        if step is not None:
            days = (end - today).days
            if step.startswith("expired"):
                sentence = f"{label} a expiré le {format_date(end)} : déposez-en un à jour."
            elif days == 0:
                sentence = (f"{label} expire aujourd'hui ({format_date(end)}) : "
                            "déposez-en un à jour.")
            elif days < 0 or expired:
                sentence = f"{label} a expiré le {format_date(end)} : déposez-en un à jour."
            else:
                sentence = (f"{label} expire le {format_date(end)}, dans "
                        f"{plural(days, 'jour')} : pensez à déposer le suivant.")
            # The kind follows the step, so that a step has one key whatever the day.
            due.append(("expiring" if step in ("d-30", "d-7") else "expired",
                        f"document:{document.id}", step, sentence))
    elif slot.state in (State.MISSING, State.REFUSED):
        due.append(("missing", "", today.isoformat(),
                    f"{label} : aucun document en vigueur, à déposer."))
    return due


def _invitation(row: Any, today: date, admins: Sequence[str], base: str,
                out: _Collected) -> None:
    invited_on = _paris_day(row.invited_at)
    step = schedule.invitation_step(invited_on, today)
    if step is None:
        return
    if step == "unanswered":
        out.unanswered.append((row.client_id, row.id, row.supplier_name, row.supplier_siren,
                               invited_on))
        return
    line = Line(
        "invitations", row.client_name, f"{base}/organisations/{row.supplier_siren}/clients",
        typo_fr(f"{row.client_name} vous a invité le {format_date(invited_on)} à lui "
                f"partager les documents de conformité de {row.supplier_name} "
                f"(SIREN {format_siren(row.supplier_siren)}) : acceptez ou déclinez "
                "l'invitation. Pas encore de compte ? Ouvrez le lien de l'invitation reçue "
                "ce jour-là."))
    recipients = {email for email in admins}
    if row.contact_email:
        recipients.add(row.contact_email.strip().lower())
    for email in sorted(recipients):
        out.items.append(Item(email, "invitation", f"relation:{row.id}:{invited_on}", step,
                              (line,), (row.id,), row.id))


def _collect_clients(client_ids: list[int], today: date, out: _Collected) -> None:
    """The digest and the "no answer" notices of a chunk of clients (six statements).

    The first run of an ISO week stores the week's snapshot: which relations
    are non-compliant then. The week's digest lists the relations of that
    snapshot that were not in the previous week's and are still non-compliant:
    every run of the week computes the same digest from the stored rows, so a
    person the digest could not reach today gets it tomorrow.
    """
    week = schedule.week_step(today)
    base = _base_url()
    db.session.rollback()  # end any read transaction: this one writes
    begin_write()
    markers = {f"client:{cid}": cid for cid in client_ids}
    now = utcnow()
    first = _insert_ignoring_duplicates(
        [_row(marker, "digest-run", f"company:{cid}", week, today, now)
         for marker, cid in markers.items()])
    _insert_ignoring_duplicates(
        [_row(marker, "digest-nc", f"relation:{rid}", week, today, now)
         for marker in first for rid in out.non_compliant.get(markers[marker], {})])
    previous = dict(db.session.execute(
        select(Reminder.recipient, func.max(Reminder.step))
        .where(Reminder.kind == "digest-run", Reminder.recipient.in_(markers),
               Reminder.step < week)
        .group_by(Reminder.recipient)).all())
    pairs = [(marker, week) for marker in markers] + list(previous.items())
    this_week: dict[int, set[str]] = defaultdict(set)
    last_week: dict[int, set[str]] = defaultdict(set)
    for recipient, subject, step in db.session.execute(
            select(Reminder.recipient, Reminder.subject, Reminder.step)
            .where(Reminder.kind == "digest-nc",
                   tuple_(Reminder.recipient, Reminder.step).in_(pairs))):
        (this_week if step == week else last_week)[markers[recipient]].add(subject)
    people = db.session.execute(
        select(Membership.company_id, Membership.role, User.email, User.digest_opt_out)
        .join(User, User.id == Membership.user_id)
        .where(Membership.company_id.in_(client_ids), User.suspended_at.is_(None))
        .order_by(User.email)).all()
    db.session.commit()

    for cid in client_ids:
        client_name, client_siren = out.clients[cid]
        lines = []
        for rid, (name, siren) in sorted(out.non_compliant.get(cid, {}).items(),
                                         key=lambda item: name_key(item[1][0])):
            subject = f"relation:{rid}"
            if subject not in this_week[cid] or subject in last_week[cid]:
                continue
            lines.append(Line(
                "digest", client_name, f"{base}/organisations/{client_siren}/fournisseurs",
                typo_fr(f"{name} (SIREN {format_siren(siren)}) : non conforme."),
                f"{base}/organisations/{client_siren}/fournisseurs/{siren}"))
        if lines:
            for company_id, _role, email, opted_out in people:
                if company_id == cid and not opted_out:
                    out.items.append(Item(email.lower(), "digest", f"company:{cid}", week,
                                          tuple(lines)))
    chunk_ids = set(client_ids)
    for cid, rid, name, siren, invited_on in out.unanswered:
        if cid not in chunk_ids:
            continue
        client_name, client_siren = out.clients[cid]
        line = Line(
            "unanswered", client_name, f"{base}/organisations/{client_siren}/fournisseurs",
            typo_fr(f"{name} (SIREN {format_siren(siren)}) n'a pas répondu à votre invitation "
                    f"du {format_date(invited_on)}, malgré six relances : contactez-le, ou "
                    "envoyez l'invitation à une autre adresse."),
            f"{base}/organisations/{client_siren}/fournisseurs/{siren}")
        for company_id, role, email, _opted_out in people:
            if company_id == cid and role == Role.ADMIN:
                out.items.append(Item(email.lower(), "unanswered",
                                      f"relation:{rid}:{invited_on}", "unanswered", (line,),
                                      (rid,), rid))


# ---- Phase 2: writing ----


def _row(recipient: str, kind: str, subject: str, step: str, today: date, now: datetime,
         relation_id: int | None = None, message_id: int | None = None) -> dict[str, Any]:
    return {"recipient": recipient, "kind": kind, "subject": subject, "step": step,
            "relation_id": relation_id, "outbox_message_id": message_id, "sent_on": today,
            "created_at": now}


_COLUMNS = ("recipient", "kind", "subject", "step", "relation_id", "outbox_message_id",
            "sent_on", "created_at")
# PostgreSQL: the rows as eight arrays, one short statement whatever their number (the
# driver would otherwise parse a statement of thousands of parameters).
_PG_INSERT = text(
    "INSERT INTO reminders (" + ", ".join(_COLUMNS) + ") "
    "SELECT * FROM unnest(CAST(:recipient AS varchar[]), CAST(:kind AS varchar[]), "
    "CAST(:subject AS varchar[]), CAST(:step AS varchar[]), CAST(:relation_id AS integer[]), "
    "CAST(:outbox_message_id AS integer[]), CAST(:sent_on AS date[]), "
    "CAST(:created_at AS timestamptz[])) "
    "ON CONFLICT DO NOTHING RETURNING recipient")


def _insert_ignoring_duplicates(rows: list[dict[str, Any]]) -> list[str]:
    """Insert reminder rows, skipping the keys already there (or being inserted by a
    concurrent run, which PostgreSQL waits for); the recipients of the rows inserted."""
    if not rows:
        return []
    if db.engine.dialect.name == "postgresql":
        arrays = {name: [row[name] for row in rows] for name in _COLUMNS}
        return list(db.session.scalars(_PG_INSERT, arrays))
    recipients: list[str] = []
    table = Reminder.__table__
    assert isinstance(table, Table)
    statement = sqlite_insert(table).on_conflict_do_nothing().returning(table.c.recipient)
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        # Executed with many parameter sets: one statement per page ("insertmanyvalues").
        recipients.extend(db.session.scalars(statement, rows[start:start + _ROWS_PER_INSERT]))
    return recipients


def _write(chunk: dict[str, list[Item]], today: date, report: RunReport) -> None:
    """One transaction for a chunk of recipients: rows, messages and history together."""
    db.session.rollback()  # end any read transaction: this one writes
    begin_write()
    keys = [item.key for items in chunk.values() for item in items if item.kind != "missing"]
    sent: set[tuple[str, str, str, str]] = set()
    if keys:
        sent = {tuple(row) for row in db.session.execute(  # type: ignore[misc]
            select(Reminder.recipient, Reminder.kind, Reminder.subject, Reminder.step)
            .where(tuple_(Reminder.recipient, Reminder.kind, Reminder.subject,
                          Reminder.step).in_(keys)))}
    missing = {(item.recipient, item.subject) for items in chunk.values() for item in items
               if item.kind == "missing"}
    last_missing: dict[tuple[str, str], date] = {}
    if missing:
        for recipient, subject, last in db.session.execute(
                select(Reminder.recipient, Reminder.subject, func.max(Reminder.sent_on))
                .where(Reminder.kind == "missing",
                       tuple_(Reminder.recipient, Reminder.subject).in_(list(missing)))
                .group_by(Reminder.recipient, Reminder.subject)):
            last_missing[(recipient, subject)] = last
    due: dict[str, list[Item]] = {}
    for recipient, items in chunk.items():
        fresh = [item for item in items
                 if (item.kind == "missing"
                     and schedule.missing_due(last_missing.get((recipient, item.subject)), today))
                 or (item.kind != "missing" and item.key not in sent)]
        if fresh:
            due[recipient] = fresh
    if not due:
        db.session.rollback()
        return
    now = utcnow()
    allowed = _insert_ignoring_duplicates(
        [_row(recipient, "daily", "message", today.isoformat(), today, now) for recipient in due])
    report.recipients_deferred += len(due) - len(allowed)
    drafts = {recipient: _message(recipient, due[recipient], today) for recipient in allowed}
    ids = enqueue_many(list(drafts.values()))
    messages = {recipient: ids[draft["message_id"]] for recipient, draft in drafts.items()}
    rows: list[dict[str, Any]] = []
    history: dict[int, dict[str, Any]] = {}
    for recipient in allowed:
        for item in due[recipient]:
            rows.append(_row(item.recipient, item.kind, item.subject, item.step, today, now,
                             item.relation_id, messages[recipient]))
            if item.kind in HISTORY_KINDS:
                for rid in item.relation_ids:
                    line = history.setdefault(rid, {"kinds": [], "recipients": []})
                    if item.kind not in line["kinds"]:
                        line["kinds"].append(item.kind)
                    if recipient not in line["recipients"]:
                        line["recipients"].append(recipient)
    inserted = len(_insert_ignoring_duplicates(rows))
    record_reminders(
        (rid, {"kinds": sorted(line["kinds"]), "recipients": len(line["recipients"]),
               "day": today.isoformat()})
        for rid, line in sorted(history.items()))
    db.session.commit()
    report.messages += len(allowed)
    report.reminders += inserted


def _message(recipient: str, items: list[Item], today: date) -> dict[str, Any]:
    lines: list[Line] = []
    said: dict[str, int] = {}
    for item in items:
        for line in item.lines:
            if line.slot and line.slot in said:
                # A refusal and "nothing in force" about one slot: the refusal says both.
                if item.kind == "refused":
                    lines[said[line.slot]] = line
                continue
            if line.slot:
                said[line.slot] = len(lines)
            lines.append(line)
    sections = []
    for section, title in SECTIONS.items():
        groups: dict[tuple[str, str], list[Line]] = {}
        for line in lines:
            if line.section == section:
                groups.setdefault((line.group, line.group_link), []).append(line)
        if groups:
            sections.append({"title": title, "groups": [
                {"heading": heading, "link": link, "lines": group}
                for (heading, link), group in sorted(groups.items())]})
    legal = any(item.kind in LEGAL_KINDS for item in items)
    digest = any(item.kind == "digest" for item in items)
    actions = sum(1 for line in lines if line.section != "digest")
    if actions:
        subject = typo_fr("hiveo : " + plural(actions, "point demande votre attention",
                                              "points demandent votre attention"))
    else:
        subject = typo_fr("hiveo : fournisseurs devenus non conformes")
    return render_message("reminder", recipient, subject, "reminders", sections=sections,
                   legal=legal, digest=digest, today=format_date(today),
                   account_link=f"{_base_url()}/compte")
