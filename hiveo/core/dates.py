"""The range of dates the portal accepts from anyone: people, files, providers.

A legal document printed before 1990 or valid after 2100 is a typing error or
a hostile value; refusing it at every door keeps date arithmetic (validity
ends, months added) and the database's date types safe.
"""

from __future__ import annotations

from datetime import date

EARLIEST = date(1990, 1, 1)
LATEST = date(2100, 12, 31)


def out_of_range(value: date) -> str | None:
    """The French refusal for a date outside the accepted range, or None."""
    if EARLIEST <= value <= LATEST:
        return None
    return (f"La date {value.strftime('%d/%m/%Y')} n'est pas plausible : "
            f"indiquez une date entre {EARLIEST.year} et {LATEST.year}.")
