"""Today's date, in France, injectable for tests (config key TODAY)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

PARIS = ZoneInfo("Europe/Paris")


def today() -> date:
    if has_app_context():
        fixed = current_app.config.get("TODAY")
        if fixed is not None:
            return fixed
    return datetime.now(PARIS).date()
