"""Provider documents in the dossier: what a run sees, and the one door that applies them.

The sync engine reads a company's provider documents through `current_index()`
and `known_revisions()` (phase 1, on a snapshot; phase 2, under lock) and hands
its candidates to `apply_provider_documents()`, which decides each with the
pure DOMAIN 3.5 rules (`sync.rules.decide`) and writes through the same
`archive()`, `claim_slot()` and `settle_refusals()` as uploads and reviews.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import Document, ReviewState
from ..providers import supplied_types
from ..providers.records import RemoteDocument
from ..relations.figures import refresh_suppliers
from ..sync.rules import Action, Held, decide
from .catalogue import CATALOGUE, effective_end
from .services import archive, claim_slot, settle_refusals
from .storage import storage

Slot = tuple[int | None, str]  # (establishment id or None, catalogue code)


class CurrentIndex:
    """The current documents of one company, by slot and by external id.

    decide() only ever needs the document with the same external id, or for a
    single-occurrence type the slot's one current document: a multi type slot
    holding hundreds of certificates costs one lookup per remote document.
    """

    def __init__(self, items: Iterable[tuple[Slot, Any]] = ()):
        """`items`: (slot, Held or Document) pairs; both have source and external_id."""
        self.slots: dict[Slot, list] = defaultdict(list)
        self._external: dict[tuple, Any] = {}
        for slot, item in items:
            self.add(slot, item)

    def add(self, slot: Slot, item) -> None:
        self.slots[slot].append(item)
        if item.external_id is not None:
            self._external[(slot, item.source, item.external_id)] = item

    def remove(self, slot: Slot, item) -> None:
        self.slots[slot] = [other for other in self.slots[slot] if other is not item]
        if item.external_id is not None:
            self._external.pop((slot, item.source, item.external_id), None)

    def relevant(self, slot: Slot, remote: RemoteDocument, multi: bool) -> list:
        same = self._external.get((slot, remote.provider, remote.external_id))
        if same is not None:
            return [same]
        return [] if multi else list(self.slots.get(slot, ()))


def held(document: Document) -> Held:
    """A Held that names its document by Python identity: new rows have no id yet."""
    return Held(id(document), document.source, document.external_id,
                document.external_revision, document.issue_date, document.validity_start)


def current_documents(company_id: int, provider: str) -> list[Document]:
    """The company's current documents of the types `provider` supplies."""
    return list(db.session.scalars(
        select(Document).where(
            Document.company_id == company_id,
            Document.is_current.is_(True),
            Document.doc_type.in_(sorted(supplied_types(provider))),
        )
    ))


def known_revisions(company_id: int, provider: str) -> frozenset[tuple[str, int]]:
    """Every (external id, revision) of `provider` the dossier holds, archived ones included."""
    rows = db.session.execute(
        select(Document.external_id, Document.external_revision).where(
            Document.company_id == company_id, Document.source == provider
        )
    )
    return frozenset((external_id, revision) for external_id, revision in rows
                     if external_id is not None and revision is not None)


@dataclass
class Candidate:
    """A provider document the run may apply, with its establishment on the portal."""

    remote: RemoteDocument
    establishment_id: int | None

    @property
    def doc_type(self) -> str:
        return self.remote.code


@dataclass
class Applied:
    """What became of one candidate: its decision, and the rows it wrote."""

    remote: RemoteDocument
    action: Action
    document: Document | None = None   # the new row (imported or replacing)
    archived: Document | None = None   # the document it replaced
    kept: Document | None = None       # the portal's newer document it gave way to (KEEP)
    missing_file: bool = False         # decided to import, but its file never arrived


def _document_from(candidate: Candidate, company_id: int, now: datetime) -> Document:
    remote = candidate.remote
    spec = CATALOGUE[candidate.doc_type]
    return Document(
        company_id=company_id,
        establishment_id=candidate.establishment_id,
        doc_type=spec.code,
        source=remote.provider,
        external_id=remote.external_id,
        external_revision=remote.revision,
        provider_state="expired" if remote.state == "expired" else "valid",
        issue_date=remote.issue_date,
        validity_start=remote.validity_start,
        validity_end=remote.validity_end,
        effective_end=effective_end(spec, remote.issue_date, remote.validity_start,
                                    remote.validity_end),
        sha256=remote.sha256,
        size=remote.size,
        filename=remote.filename[:200] or "document.pdf",
        uploaded_at=now,
        review_state=ReviewState.VALIDATED.value,
        reviewed_at=now,
        is_current=False,
    )


def apply_provider_documents(company_id: int, provider: str, candidates: Iterable[Candidate],
                             now: datetime) -> list[Applied]:
    """Decide each candidate on fresh rows and write the outcome; the caller holds the locks.

    Candidates already in the dossier (same external id and revision) are
    passed over, unless the portal keeps a newer document over them in their
    slot: those come back as KEEP each time they are offered (a reactivation
    offers every document the provider lists). New rows are inserted first (for their ids), then the
    documents they replace are archived, then the new current documents claim
    their slots: the unique slot key never sees two.
    """
    current = CurrentIndex(((d.establishment_id, d.doc_type), d)
                           for d in current_documents(company_id, provider))
    known = set(known_revisions(company_id, provider))
    store = storage()
    applied: list[Applied] = []
    for candidate in candidates:
        remote = candidate.remote
        slot = (candidate.establishment_id, candidate.doc_type)
        multi = CATALOGUE[candidate.doc_type].multi
        relevant = current.relevant(slot, remote, multi)
        by_identity = {id(document): document for document in relevant}
        decision = decide(remote, multi=multi, current=[held(doc) for doc in relevant])
        kept = relevant[0] if decision.action is Action.KEEP else None
        if (remote.external_id, remote.revision) in known:
            # Seen before (archived since): only worth a word if the portal keeps a newer one.
            if kept is not None:
                applied.append(Applied(remote, Action.KEEP, kept=kept))
            continue
        if not decision.needs_file:
            applied.append(Applied(remote, decision.action, kept=kept))
            continue
        if not store.exists(remote.sha256):
            # The dossier changed since phase 1 and this file was not fetched.
            applied.append(Applied(remote, decision.action, missing_file=True))
            continue
        document = _document_from(candidate, company_id, now)
        old = by_identity[decision.replaces.id] if decision.replaces is not None else None
        if old is not None:
            current.remove(slot, old)
        current.add(slot, document)
        known.add((remote.external_id, remote.revision))
        applied.append(Applied(remote, decision.action, document, old))

    new_documents = [item.document for item in applied if item.document is not None]
    db.session.add_all(new_documents)
    db.session.flush()
    for item in applied:
        if item.archived is not None and item.document is not None:
            archive(item.archived, item.document, now)
    db.session.flush()
    survivors = {id(document) for documents in current.slots.values() for document in documents}
    for document in new_documents:
        if id(document) in survivors:
            claim_slot(document)
    settle_refusals([d for d in new_documents if d.is_current], now)
    db.session.flush()
    if new_documents:
        refresh_suppliers([company_id])
    return applied
