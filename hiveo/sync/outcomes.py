"""How a call of `sync_company()` ended: one vocabulary for the engine, the records and the pages.

The first three are outcomes of a run that took place and was recorded in
`sync_runs` (the database check lists exactly them); the others say why no
run took place. `hiveo/sync/wording.py` words each one in French.
"""

from __future__ import annotations

import enum


class Outcome(enum.StrEnum):
    SUCCESS = "success"        # applied and recorded
    FAILED = "failed"          # nothing applied; recorded with its reason; retried next time
    CANCELLED = "cancelled"    # the switch was turned off meanwhile: nothing applied, not retried
    BUSY = "busy"              # another run of this company holds the lock: no run
    DISABLED = "disabled"      # the company's switch is off: no run, no call
    OFF = "off"                # the provider is not configured on this portal: no run
    NOT_LINKED = "not_linked"  # the provider has no account for the company: no run

    @property
    def recorded(self) -> bool:
        """Whether a run took place and left a `SyncRun` row."""
        return self in RECORDED


RECORDED = frozenset({Outcome.SUCCESS, Outcome.FAILED, Outcome.CANCELLED})

# The check constraint's condition (models.py and migration 0007 say the same).
RECORDED_CHECK = "outcome in ('success', 'failed', 'cancelled')"
