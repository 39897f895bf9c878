"""What the portal accepts from outside as text and numbers, checked once at the edge.

Control characters in a query string, a path, a form field or a command-line
argument are never meant: PostgreSQL refuses NUL in text (a 500 where it
reached a query) and the others would be stored as they are. Numbers typed by
people or tampering clients are ASCII digits of a size the database holds:
`str.isdigit()` accepts '²' and '٣', which `int()` then refuses or reads.
"""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter

# Unicode's Cc category: C0 (NUL to US), DEL and the C1 block.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The same without tab, line feed and carriage return, which a textarea may send.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_ASCII_DIGITS = re.compile(r"[0-9]+")

# Every id column is INTEGER (4 bytes on PostgreSQL): no row has an id beyond it.
MAX_ID = 2**31 - 1

CONTROL_REFUSAL = "La requête contient des caractères de contrôle, qui ne sont pas acceptés."


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    """Whether `text` holds a control character (tab, CR and LF allowed when `multiline`)."""
    return (_CONTROL_IN_TEXT if multiline else _CONTROL).search(text) is not None


def without_control_characters(text: str) -> str:
    """`text` with its control characters removed: for what other systems send us.

    A provider's field is not refused for a stray control character (its run
    would fail on a name); the character is dropped before the text is stored.
    """
    return _CONTROL.sub("", text)


def ascii_digits(text: str) -> bool:
    """Whether `text` is one or more of the digits 0 to 9, and nothing else."""
    return _ASCII_DIGITS.fullmatch(text) is not None


def parse_id(text: str | None) -> int | None:
    """The id written in `text` (ASCII digits, 1 to MAX_ID), else None."""
    if not text or len(text) > len(str(MAX_ID)) or not ascii_digits(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in routes: ids from 1 to MAX_ID, so a longer number is a 404, not a 500.

    Werkzeug's own converter matches `\\d`, which takes other scripts' digits
    ('٣' opened document 3), and has no maximum unless each route gives one.
    """

    regex = r"[0-9]+"

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
