"""When each reminder is due (issue 16, DOMAIN.md 6): pure functions of dates.

Each function answers with the *step* of the schedule a reminder is at
today, or None when nothing is due. A step is a window, not a single day: a
run that did not happen on the exact day (cron down, a day skipped) still
sends the step the next day, and the Reminder row keyed by the step keeps it
from leaving twice.

Documents (effective end E, the last day the document is in force):
  "d-30"  from E-30 to E-8, "d-7" from E-7 to E-1, "d0" from E to E+6
  ("expire aujourd'hui" / "a expiré le"), then "expired-wN" every 7 days
  while it stays expired (N = weeks since E).
Missing documents: every 7 days since the last reminder about the slot
  (`missing_due`), the step being the day it leaves.
Refusals: once per refused document, at the next run ("refused").
Pending invitations (I, the day the invitation was sent): "d3" from I+3,
  "d7" from I+7, then "w2".."w5" (I+14, +21, +28, +35), four weekly ones;
  from I+42 the client's admins are told once that the supplier has not
  answered ("unanswered").
Client digest: once per ISO week ("week-2026-49").
"""

from __future__ import annotations

from datetime import date

MISSING_EVERY_DAYS = 7
INVITATION_WEEKS = (2, 3, 4, 5)
UNANSWERED_AFTER_DAYS = 42


def expiry_step(end: date, today: date) -> str | None:
    days = (end - today).days
    if days > 30:
        return None
    if days >= 8:
        return "d-30"
    if days >= 1:
        return "d-7"
    if days >= -6:
        return "d0"
    return f"expired-w{(-days) // 7}"


def missing_due(last_sent: date | None, today: date) -> bool:
    return last_sent is None or (today - last_sent).days >= MISSING_EVERY_DAYS


def invitation_step(invited_on: date, today: date) -> str | None:
    """The supplier-side step, or "unanswered" (the client is told), or None."""
    days = (today - invited_on).days
    if days < 3:
        return None
    if days < 7:
        return "d3"
    if days < 14:
        return "d7"
    if days < UNANSWERED_AFTER_DAYS:
        return f"w{days // 7}"
    return "unanswered"


def week_step(today: date) -> str:
    year, week, _ = today.isocalendar()
    return f"week-{year}-{week:02d}"
