"""Applying a provider document to its slot (DOMAIN.md 3.5), as a pure decision.

The engine asks twice: in phase 1, on a snapshot, to know which files it must
fetch; in phase 2, under lock, on fresh rows, to know what to write. Both
times the answer comes from `decide()`, so the two can only differ when the
dossier changed in between.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from ..providers.records import RemoteDocument


class Action(enum.StrEnum):
    IMPORT = "import"          # no current document in the slot (or a new one of a multi type)
    REPLACE = "replace"        # newer than the current document, which is archived
    KEEP = "keep"              # the portal's version is more recent: nothing changes
    UNCHANGED = "unchanged"    # same external id and revision as the current document
    LOWER = "lower"            # same external id, lower revision: reported, nothing changes
    AWAITING = "awaiting"      # awaiting validation at the provider: not applied
    REFUSED = "refused"        # refused at the provider: not applied


@dataclass(frozen=True)
class Held:
    """A current portal document, as the rules need to see it."""

    id: int
    source: str
    external_id: str | None
    external_revision: int | None
    issue_date: date
    validity_start: date


@dataclass(frozen=True)
class Decision:
    action: Action
    replaces: Held | None = None

    @property
    def needs_file(self) -> bool:
        return self.action in (Action.IMPORT, Action.REPLACE)


def decide(remote: RemoteDocument, *, multi: bool, current: list[Held]) -> Decision:
    """What to do with `remote` given the current documents of its slot."""
    if remote.state == "awaiting":
        return Decision(Action.AWAITING)
    if remote.state == "refused":
        return Decision(Action.REFUSED)
    same = next(
        (held for held in current
         if held.source == remote.provider and held.external_id == remote.external_id),
        None,
    )
    if same is not None:
        revision = same.external_revision or 0
        if remote.revision > revision:
            return Decision(Action.REPLACE, same)
        if remote.revision == revision:
            return Decision(Action.UNCHANGED)
        return Decision(Action.LOWER)
    if multi or not current:
        # A multi type only ever matches its own external id: it never archives
        # another document, manual or from elsewhere.
        return Decision(Action.IMPORT)
    held = current[0]
    if (remote.validity_start, remote.issue_date) > (held.validity_start, held.issue_date):
        return Decision(Action.REPLACE, held)
    return Decision(Action.KEEP)
