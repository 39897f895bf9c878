"""What must hold of the stored state whatever happened, in whatever order.

`check_invariants(app)` reads a raw dump of every table (plain rows, no ORM
objects, so nothing cached in a session can hide a problem) and checks:

- each (provider, external id, revision) is stored once;
- a pending document is neither current nor archived, a refused one is not
  current, a validated one is either current or archived;
- exactly one current document per single-occurrence slot that has ever held
  a validated document, and its `current_slot` names that slot;
- every archived document points to what replaced it, in the same slot, and
  following "replaced by" always ends (at a current document for what was
  validated);
- a refusal is settled (archived) only by a document that came after it: a
  refused document's replacement was stored after the refusal;
- every file a document refers to is in the store;
- the audit trail tells the same story as the final state: each manual
  document has the events of its life (uploaded, then validated or refused;
  or imported) by the people recorded on it; each archive done by a person
  is listed in exactly one event; each sync switch's events alternate, each
  names its user, and the last one gives the switch's state;
- the sync runs account for every provider document and every archive a
  provider document made.

The races (tests/integration/test_races.py) and the state machine
(tests/integration/test_invariants.py) both end with it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from flask import Flask

from hiveo.dossier.catalogue import CATALOGUE
from hiveo.dossier.storage import LocalStorage
from hiveo.extensions import db
from hiveo.models import slot_key

SWITCH_ACTIONS = ("sync.disabled", "sync.enabled")
MANUAL = "manual"


@dataclass(frozen=True)
class Dump:
    """Every row of every table, as plain dicts ordered by primary key."""

    tables: dict[str, list[dict[str, Any]]]

    def rows(self, table: str) -> list[dict[str, Any]]:
        return self.tables[table]

    @property
    def documents(self) -> dict[int, dict[str, Any]]:
        return {row["id"]: row for row in self.tables["documents"]}


def dump_tables() -> Dump:
    """A raw dump of the database of the current app context (run in one transaction)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    try:
        for table in db.metadata.sorted_tables:
            order = [column for column in table.primary_key.columns]
            result = db.session.execute(table.select().order_by(*order))
            tables[table.name] = [dict(row._mapping) for row in result]
    finally:
        db.session.rollback()
    return Dump(tables)


def _slot(document: dict[str, Any]) -> tuple[int, int | None, str]:
    return (document["company_id"], document["establishment_id"], document["doc_type"])


def _check_documents(documents: dict[int, dict[str, Any]], problems: list[str]) -> None:
    external = Counter(
        (d["source"], d["external_id"], d["external_revision"])
        for d in documents.values()
        if d["external_id"] is not None
    )
    problems.extend(f"stored {count} times: {key}" for key, count in external.items()
                    if count > 1)

    current_by_slot: dict[tuple, list[int]] = defaultdict(list)
    validated_slots: set[tuple] = set()
    for doc in documents.values():
        name = f"document {doc['id']} ({doc['doc_type']}, {doc['review_state']})"
        multi = CATALOGUE[doc["doc_type"]].multi
        archived = doc["archived_at"] is not None
        if doc["review_state"] == "pending" and (doc["is_current"] or archived):
            problems.append(f"{name} is pending yet current or archived")
        if doc["review_state"] == "refused" and doc["is_current"]:
            problems.append(f"{name} is refused yet current")
        if doc["review_state"] == "validated":
            if not multi:
                validated_slots.add(_slot(doc))
            if doc["is_current"] == archived:
                problems.append(f"{name} is validated but current={doc['is_current']} "
                                f"and archived={archived}")
        if doc["is_current"]:
            expected = None if multi else slot_key(*_slot(doc))
            if doc["current_slot"] != expected:
                problems.append(f"{name}: current_slot {doc['current_slot']!r}, "
                                f"expected {expected!r}")
            if not multi:
                current_by_slot[_slot(doc)].append(doc["id"])
        elif doc["current_slot"] is not None:
            problems.append(f"{name} is not current but claims slot {doc['current_slot']!r}")
        if doc["source"] == MANUAL and doc["external_id"] is not None:
            problems.append(f"{name} is manual with an external id")
        if doc["source"] != MANUAL and (doc["external_id"] is None
                                        or doc["review_state"] != "validated"):
            problems.append(f"{name} comes from {doc['source']} without external id "
                            "or unvalidated")

    for slot in validated_slots | set(current_by_slot):
        current = current_by_slot.get(slot, [])
        if len(current) != 1:
            problems.append(f"slot {slot} has {len(current)} current documents: {current}")

    for doc in documents.values():
        if doc["archived_at"] is None:
            if doc["replaced_by_id"] is not None:
                problems.append(f"document {doc['id']} is replaced but not archived")
            continue
        replacer = documents.get(doc["replaced_by_id"])
        if replacer is None:
            problems.append(f"archived document {doc['id']} points to "
                            f"{doc['replaced_by_id']!r}, which does not exist")
            continue
        if replacer["id"] == doc["id"] or _slot(replacer) != _slot(doc):
            problems.append(f"archived document {doc['id']} is replaced by {replacer['id']} "
                            "of another slot (or itself)")
            continue
        if doc["review_state"] == "refused" and (
            replacer["id"] < doc["id"] or replacer["uploaded_at"] < doc["reviewed_at"]
        ):
            problems.append(f"refused document {doc['id']} is settled by {replacer['id']}, "
                            "which came before the refusal")
        seen = {doc["id"]}
        end = replacer
        while end["archived_at"] is not None and end["id"] not in seen:
            seen.add(end["id"])
            end = documents.get(end["replaced_by_id"], end)
        if end["archived_at"] is not None:
            problems.append(f"the replacements from document {doc['id']} go round in a circle")
        elif doc["review_state"] == "validated" and not end["is_current"]:
            problems.append(f"validated document {doc['id']} was replaced by a chain that "
                            f"ends at {end['id']}, which is not current")


def _check_files(documents: dict[int, dict[str, Any]], store: LocalStorage,
                 problems: list[str]) -> None:
    for doc in documents.values():
        if not store.exists(doc["sha256"]):
            problems.append(f"document {doc['id']} refers to a missing file {doc['sha256']}")


def _check_document_story(dump: Dump, problems: list[str]) -> None:
    documents = dump.documents
    events = [e for e in dump.rows("audit_events") if e["action"].startswith("document.")]
    by_document: dict[int, list[dict[str, Any]]] = defaultdict(list)
    archived_by_events: Counter[int] = Counter()
    for event in events:
        document = documents.get(event["details"].get("document_id"))
        if document is None:
            problems.append(f"audit event {event['id']} names a document that does not exist")
            continue
        by_document[document["id"]].append(event)
        for old_id in event["details"].get("archived", []):
            archived_by_events[old_id] += 1
            old = documents.get(old_id)
            if old is None or old["replaced_by_id"] != document["id"]:
                problems.append(f"audit event {event['id']} says document {document['id']} "
                                f"archived {old_id}; the dossier says otherwise")

    for doc in documents.values():
        actions = [e["action"] for e in by_document.get(doc["id"], [])]
        if doc["source"] != MANUAL:
            if actions:
                problems.append(f"provider document {doc['id']} has document events {actions}")
            continue
        expected = {
            "pending": [["document.uploaded"]],
            "validated": [["document.imported"], ["document.uploaded", "document.validated"]],
            "refused": [["document.uploaded", "document.refused"]],
        }[doc["review_state"]]
        if actions not in expected:
            problems.append(f"manual document {doc['id']} is {doc['review_state']} but its "
                            f"events are {actions}")
            continue
        users = [e["user_id"] for e in by_document[doc["id"]]]
        if users[0] != doc["uploaded_by_id"] or (
            len(users) == 2 and users[1] != doc["reviewed_by_id"]
        ):
            problems.append(f"manual document {doc['id']}: events by users {users}, rows say "
                            f"{doc['uploaded_by_id']} then {doc['reviewed_by_id']}")

    for doc in documents.values():
        replacer = documents.get(doc["replaced_by_id"])
        by_person = (doc["review_state"] == "validated" and replacer is not None
                     and replacer["source"] == MANUAL)
        if archived_by_events[doc["id"]] != (1 if by_person else 0):
            problems.append(f"document {doc['id']} archived by a person: {by_person}, "
                            f"listed in {archived_by_events[doc['id']]} audit events")


def _check_switch_story(dump: Dump, problems: list[str]) -> None:
    events: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for event in dump.rows("audit_events"):
        if event["action"] in SWITCH_ACTIONS:
            events[(event["company_id"], event["details"].get("provider"))].append(event)
    links = {(link["company_id"], link["provider"]): link for link in dump.rows("provider_links")}
    for key in events.keys() - links.keys():
        problems.append(f"switch events for {key}, which has no link")
    for key, link in links.items():
        trail = events.get(key, [])
        # A link starts enabled: the trail must read off, on, off...
        expected = [SWITCH_ACTIONS[index % 2] for index in range(len(trail))]
        actions = [event["action"] for event in trail]
        if actions != expected:
            problems.append(f"switch events of {key} do not alternate: {actions}")
        final = actions[-1] == "sync.enabled" if actions else True
        if final != link["sync_enabled"]:
            problems.append(f"switch events of {key} end with {actions[-1:]}, the link says "
                            f"enabled={link['sync_enabled']}")
        if any(event["user_id"] is None for event in trail):
            problems.append(f"a switch event of {key} names no user")
        if trail and link["changed_by_id"] != trail[-1]["user_id"]:
            problems.append(f"link {key} was last changed by {link['changed_by_id']}, the "
                            f"last event names {trail[-1]['user_id']}")


def _check_run_story(dump: Dump, problems: list[str]) -> None:
    documents = dump.documents
    stored: Counter[tuple[int, str]] = Counter()
    archived: Counter[tuple[int, str]] = Counter()
    for doc in documents.values():
        if doc["source"] != MANUAL:
            stored[(doc["company_id"], doc["source"])] += 1
        replacer = documents.get(doc["replaced_by_id"])
        if (doc["review_state"] == "validated" and replacer is not None
                and replacer["source"] != MANUAL):
            archived[(doc["company_id"], replacer["source"])] += 1
    imported: Counter[tuple[int, str]] = Counter()
    replaced: Counter[tuple[int, str]] = Counter()
    for run in dump.rows("sync_runs"):
        key = (run["company_id"], run["provider"])
        if run["outcome"] == "failed":
            if run["imported"] or run["replaced"]:
                problems.append(f"failed run {run['id']} claims documents")
            continue
        imported[key] += run["imported"] + run["replaced"]
        replaced[key] += run["replaced"]
    for key in stored.keys() | imported.keys():
        if stored[key] != imported[key]:
            problems.append(f"{key}: {stored[key]} provider documents stored, the runs "
                            f"imported or replaced {imported[key]}")
    for key in archived.keys() | replaced.keys():
        if archived[key] != replaced[key]:
            problems.append(f"{key}: {archived[key]} documents archived by the provider's, "
                            f"the runs replaced {replaced[key]}")


# Run items that count towards each of a run's counters (the other kinds are not counted).
_COUNTED = {"imported": "imported", "replaced": "replaced", "kept": "kept",
            "awaiting": "awaiting", "refused": "refused", "unknown_type": "skipped",
            "establishment_missing": "skipped", "bad_dates": "skipped",
            "date_out_of_range": "skipped", "file_refused": "skipped",
            "file_missing": "skipped"}


def _check_run_items(dump: Dump, problems: list[str]) -> None:
    """A run's items add up to its counts and name the documents it wrote or archived."""
    documents = dump.documents
    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in dump.rows("sync_run_items"):
        items[item["run_id"]].append(item)
    for run in dump.rows("sync_runs"):
        mine = items.get(run["id"], [])
        if not mine:
            continue  # a failed run, or one recorded before run items
        if run["outcome"] != "success":
            problems.append(f"{run['outcome']} run {run['id']} has items")
        counted: Counter[str] = Counter(_COUNTED[item["kind"]] for item in mine
                                        if item["kind"] in _COUNTED)
        for name in ("imported", "replaced", "kept", "awaiting", "refused", "skipped"):
            if counted[name] != run[name]:
                problems.append(f"run {run['id']}: {run[name]} {name}, {counted[name]} items")
        for item in mine:
            document = documents.get(item["document_id"])
            if item["kind"] in ("imported", "replaced") and (
                    document is None or document["source"] != run["provider"]
                    or document["external_id"] != item["external_id"]):
                problems.append(f"run item {item['id']} names no document of the run")
            archived = documents.get(item["archived_id"])
            if item["kind"] == "replaced" and archived is not None and (
                    archived["replaced_by_id"] != item["document_id"]):
                problems.append(f"run item {item['id']}: document {archived['id']} was not "
                                "archived by the document that replaced it")


def check_invariants(app: Flask) -> Dump:
    """Assert every invariant of the stored state; return the dump that was checked."""
    with app.app_context():
        dump = dump_tables()
        store = LocalStorage(app.config["STORAGE_DIR"])
        db.session.remove()
    problems: list[str] = []
    documents = dump.documents
    _check_documents(documents, problems)
    _check_files(documents, store, problems)
    _check_document_story(dump, problems)
    _check_switch_story(dump, problems)
    _check_run_story(dump, problems)
    _check_run_items(dump, problems)
    assert not problems, "invariants broken:\n" + "\n".join(problems)
    return dump
