"""Is this file a PDF we accept? Checked by content, never by name or declared type."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

PDF_MAGIC = b"%PDF-"
# Active content has no place in a legal certificate: a client opening it
# must not run anything.
_ACTIVE_KEYS = {"/JavaScript", "/JS", "/Launch", "/EmbeddedFiles", "/RichMedia", "/XFA",
                "/SubmitForm", "/ImportData"}
_MAX_WALK = 20000


class PdfRejected(ValueError):
    """The message is meant for the uploader (French)."""


@dataclass(frozen=True)
class PdfInfo:
    pages: int


def _resolve(value):
    return value.get_object() if isinstance(value, IndirectObject) else value


def _has_active_content(reader: PdfReader) -> bool:
    """Walk the document's object graph (object streams included) for active content."""
    seen: set[tuple[int, int]] = set()
    stack = [reader.trailer["/Root"]]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        visited += 1
        if visited > _MAX_WALK:
            raise PdfRejected("Le PDF est trop complexe pour être vérifié.")
        if isinstance(item, DictionaryObject):
            for name, value in item.items():
                if name in _ACTIVE_KEYS:
                    return True
                if name == "/S" and _resolve(value) in ("/JavaScript", "/Launch", "/SubmitForm"):
                    return True
                if name != "/Parent":
                    stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return False


def inspect_pdf(path: str | Path) -> PdfInfo:
    """Return the PDF's page count, or raise PdfRejected with the reason."""
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(1024)
    if not head:
        raise PdfRejected("Le fichier est vide.")
    if not head.startswith(PDF_MAGIC):
        raise PdfRejected(
            "Ce fichier n'est pas un PDF : son contenu n'en est pas un, quel que soit son nom."
        )
    try:
        reader = PdfReader(path, strict=True)
        if reader.is_encrypted:
            raise PdfRejected(
                "Ce PDF est protégé (chiffré) : déposez une version sans mot de passe."
            )
        pages = len(reader.pages)
        for page in reader.pages:
            page.get_contents()
        active = _has_active_content(reader)
    except PdfRejected:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError, AssertionError):
        raise PdfRejected("Ce PDF est illisible ou endommagé.") from None
    if pages == 0:
        raise PdfRejected("Ce PDF ne contient aucune page.")
    if active:
        raise PdfRejected(
            "Ce PDF contient du contenu actif (JavaScript, pièce jointe ou action) : "
            "déposez une version imprimée en PDF simple."
        )
    return PdfInfo(pages=pages)
