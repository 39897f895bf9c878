"""Reminders: `flask reminders send`, the daily run that tells people what needs doing.

`engine.send_reminders(today)` is the whole run (no Flask request in it);
`schedule` holds the pure rules of when each reminder is due.
"""
