"""The reminder schedule's windows, day by day (hiveo/reminders/schedule.py)."""

from __future__ import annotations

from datetime import date, timedelta

from hiveo.reminders.schedule import expiry_step, invitation_step, missing_due, week_step

END = date(2027, 1, 8)


def test_an_expiring_document_has_a_step_from_30_days_before_its_end_and_weekly_after():
    steps = {offset: expiry_step(END, END + timedelta(days=offset)) for offset in range(-40, 30)}
    assert {o for o, s in steps.items() if s is None} == set(range(-40, -30))
    assert steps[-30] == steps[-8] == "d-30"
    assert steps[-7] == steps[-1] == "d-7"
    assert steps[0] == steps[6] == "d0"
    assert steps[7] == steps[13] == "expired-w1"
    assert steps[14] == "expired-w2" and steps[28] == "expired-w4"


def test_a_missing_document_is_due_again_seven_days_after_the_last_reminder():
    today = date(2026, 11, 29)
    assert missing_due(None, today)
    assert not missing_due(today - timedelta(days=6), today)
    assert missing_due(today - timedelta(days=7), today)


def test_an_invitation_is_reminded_at_3_and_7_days_then_four_weeks_then_the_client():
    sent = date(2026, 11, 29)
    steps = [invitation_step(sent, sent + timedelta(days=d)) for d in range(0, 50)]
    firsts = {}
    for day, step in enumerate(steps):
        if step is not None:
            firsts.setdefault(step, day)
    assert firsts == {"d3": 3, "d7": 7, "w2": 14, "w3": 21, "w4": 28, "w5": 35,
                      "unanswered": 42}


def test_the_digest_step_is_the_iso_week():
    assert week_step(date(2026, 11, 29)) == "week-2026-48"
    assert week_step(date(2026, 11, 30)) == "week-2026-49"
    assert week_step(date(2027, 1, 1)) == "week-2026-53"
