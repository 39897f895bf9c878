"""Small French text helpers: plurals, numbers, sizes, dates. One home for each."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from markupsafe import Markup

from .clock import PARIS

# A narrow no-break space, as French typography puts between thousands and before units.
NNBSP = "\u202f"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """"0 document", "1 document", "2 documents": French keeps 0 and 1 singular."""
    word = singular if abs(count) < 2 else (plural_form or singular + "s")
    return f"{count} {word}"


def fold(text: str) -> str:
    """Lower case without accents, for search and sort: "Bêta Société" → "beta societe".

    The database never folds: what lists sort or search by is stored folded with the
    text (models.name_key(), models.code_key())."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.replace("œ", "oe").replace("æ", "ae")


def decimal_fr(value: float, digits: int = 1) -> str:
    """A decimal number the French way: "0,6", "12,5"; integers lose their ",0"."""
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def size_fr(count: int) -> str:
    """A file size people read: "512 octets", "0,6 Ko", "4,2 Mo"."""
    if count < 1024:
        return plural(count, "octet")
    if count < 1024 * 1024:
        return f"{decimal_fr(count / 1024)} Ko"
    return f"{decimal_fr(count / (1024 * 1024))} Mo"


def megabytes_fr(count: int) -> str:
    """A size limit in whole megabytes: "10 Mo"."""
    return f"{count // (1024 * 1024)} Mo"


def format_date(value: date | datetime | None) -> str:
    """"01/12/2026"; a datetime is read in Paris time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    # Not strftime(): lists format two dates a row, and this takes a third of its time.
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def format_datetime(value: datetime | None) -> str:
    """"01/12/2026 à 14:05", in Paris time."""
    if value is None:
        return ""
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


# A no-break space before ":" and a narrow one before ";", "?", "!" and inside « »,
# as the Imprimerie nationale's rules put them; typographic apostrophes between letters.
NBSP = "\u00a0"
_BEFORE_COLON = re.compile(r"[ \u00a0\u202f]+:(?=\s|$)")
_BEFORE_HIGH = re.compile(r"[ \u00a0\u202f]+([;?!])")
_AFTER_OPEN = re.compile(r"«[ \u00a0\u202f]*")
_BEFORE_CLOSE = re.compile(r"[ \u00a0\u202f]*»")
_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")


def typo_fr(text: str) -> str:
    """French typography for a sentence: "Pourquoi ?" keeps "?" on its word's line.

    Only spaces already there become no-break ones: "14:05" and addresses stay as
    they are. Applied to plain text; Markup passes through the same rules since it
    only changes spaces and apostrophes between letters.
    """
    if not text:
        return text
    result = _BEFORE_COLON.sub(NBSP + ":", str(text))
    result = _BEFORE_HIGH.sub(NNBSP + r"\1", result)
    result = _AFTER_OPEN.sub("«" + NNBSP, result)
    result = _BEFORE_CLOSE.sub(NNBSP + "»", result)
    result = _APOSTROPHE.sub("\u2019", result)
    if isinstance(text, Markup):
        return Markup(result)
    return result


# What `typo_fr` would have fixed, or a decimal point, in text people read: the rules
# of `tools/typo_check.py` (templates and rendered pages), kept beside the ones above.
_PLAIN_SPACE = "[ \t\r\n]"
_PLAIN_BEFORE_COLON = re.compile(_PLAIN_SPACE + r"+:(?=\s|$)")
_PLAIN_BEFORE_HIGH = re.compile(_PLAIN_SPACE + r"+([;?!])")
_OPEN_WITHOUT_SPACE = re.compile(r"«(?![\u00a0\u202f])")
_CLOSE_WITHOUT_SPACE = re.compile(r"(?<![\u00a0\u202f])»")
_DECIMAL_POINT = re.compile(r"(?<![\d.])\d+\.\d+(?:\u00a0|\u202f| )?(?:Ko|Mo|Go|octets|%)")


def typo_problems(text: str) -> list[str]:
    """Why `text` breaks French typography: plain spaces before « : ; ? ! », guillemets
    without their no-break spaces, "0.6 Ko" instead of "0,6 Ko". Empty when it is fine."""
    return [message for _at, message in typo_issues(text)]


def typo_issues(text: str) -> list[tuple[int, str]]:
    """`typo_problems()` with where each one is in `text` (an offset), in text order."""
    issues = []
    for match in _PLAIN_BEFORE_COLON.finditer(text):
        issues.append((match.start(), "plain space before ':' in "
                       f"{_around(text, match.start())!r}"))
    for match in _PLAIN_BEFORE_HIGH.finditer(text):
        issues.append((match.start(), f"plain space before {match.group(1)!r} in "
                       f"{_around(text, match.start())!r}"))
    for match in _OPEN_WITHOUT_SPACE.finditer(text):
        issues.append((match.start(), "no no-break space after '«' in "
                       f"{_around(text, match.start())!r}"))
    for match in _CLOSE_WITHOUT_SPACE.finditer(text):
        issues.append((match.start(), "no no-break space before '»' in "
                       f"{_around(text, match.start())!r}"))
    for match in _DECIMAL_POINT.finditer(text):
        issues.append((match.start(), "decimal point instead of a comma in "
                       f"{match.group(0)!r}"))
    return sorted(issues)


def _around(text: str, at: int, width: int = 30) -> str:
    return " ".join(text[max(0, at - width):at + width].split())
