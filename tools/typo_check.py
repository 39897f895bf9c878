"""French typography in what people read: templates' visible text and rendered pages.

    python tools/typo_check.py                        # every template under templates/
    python tools/typo_check.py templates/clients      # some folders or files
    python tools/typo_check.py --exclude 'documents/*'

Reports each plain space before « : ; ? ! », each « » without its no-break
spaces and each "0.6 Ko" (the rules are `hiveo.core.text.typo_issues`, beside
`typo_fr`, which fixes them), with its file and line; exits 1 if there is any.

What counts as visible: the text of the HTML (not <script>, <style>, comments)
and the attributes people or screen readers get (alt, title, placeholder,
aria-label...). In a template, `{{ … }}` stands for some text and `{% … %}` for
none; the string literals of `{{ … }}` and `{% set %}` are checked too, unless
the tag passes them through `typo_fr` (or a macro that does: `TYPO_MACROS`). In source, write the
spaces as `&nbsp;:` and `&#8239;?` (or pipe the sentence through `| typo_fr`).
Plain-text templates (.txt) are read whole. Rendered HTML: `check_html()`.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hiveo.core.text import typo_issues  # noqa: E402

# Attributes whose value people see or hear.
VISIBLE_ATTRIBUTES = frozenset({"alt", "title", "placeholder", "aria-label",
                                "aria-description", "aria-roledescription", "aria-valuetext"})
# Calls that apply typo_fr to the text they receive (templates/components/forms.html).
TYPO_MACROS = ("typo_fr", "field(")

_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_SHOWS = re.compile(r"\{%-?\s*set\b")  # the statements whose literals may be shown
_STRING = re.compile(r"\"((?:[^\"\\]|\\.)*)\"|'((?:[^'\\]|\\.)*)'", re.S)


@dataclass(frozen=True)
class Problem:
    where: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: {self.message}"


class _Visible(HTMLParser):
    """Collects (line, text) of the visible text and attributes of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[tuple[int, str]] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self.texts.append((self.getpos()[0], value))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self.texts.append((self.getpos()[0], value))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.texts.append((self.getpos()[0], data))


def visible_texts(html: str) -> list[tuple[int, str]]:
    """(line, text) of every visible piece of an HTML document or fragment."""
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return parser.texts


def _problems(where: str, texts: list[tuple[int, str]]) -> list[Problem]:
    return [Problem(where, line + text.count("\n", 0, at), message)
            for line, text in texts for at, message in typo_issues(text)]


def check_html(html: str, where: str = "page") -> list[Problem]:
    """The typography problems of a rendered page (or fragment)."""
    return _problems(where, visible_texts(html))


def _blank(text: str, stand_in: str = "") -> str:
    """`stand_in` followed by the newlines of `text`, so that line numbers stay."""
    return stand_in + "\n" * text.count("\n")


def template_texts(source: str, *, html: bool = True) -> list[tuple[int, str]]:
    """(line, text) of what a template shows: its text with tags stood in for, and the
    string literals of tags that do not pass them through typo_fr."""
    source = _COMMENT.sub(lambda match: _blank(match.group(0)), source)
    literals: list[tuple[int, str]] = []
    for match in _TAG.finditer(source):
        tag = match.group(0)
        if any(marker in tag for marker in TYPO_MACROS) or (
                tag.startswith("{%") and not _SHOWS.match(tag)):
            continue  # passed through typo_fr, or a statement that compares or calls
        line = source.count("\n", 0, match.start()) + 1
        for literal in _STRING.finditer(tag):
            text = literal.group(1) if literal.group(1) is not None else literal.group(2)
            literals.append((line + tag.count("\n", 0, literal.start()), text))
    # An expression stands for some text ("X"), a statement for none.
    text = _TAG.sub(lambda match: _blank(match.group(0),
                                          "X" if match.group(0).startswith("{{") else ""),
                    source)
    if html:
        return visible_texts(text) + literals
    return [(number, line) for number, line in enumerate(text.split("\n"), 1)] + literals


def check_template(path: Path, where: str | None = None) -> list[Problem]:
    """The typography problems of one template file."""
    texts = template_texts(path.read_text(encoding="utf-8"), html=path.suffix != ".txt")
    return sorted(_problems(where or str(path), texts), key=lambda p: p.line)


def template_files(paths: list[Path], exclude: Sequence[str] = ()) -> list[Path]:
    """The .html and .txt templates under `paths`, less those matching an `exclude` glob
    (relative to the folder given, or to templates/)."""
    found = []
    for path in paths:
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*") if p.suffix in (".html", ".txt"))
        for file in files:
            relative = file.relative_to(path).as_posix() if path.is_dir() else file.name
            if not any(fnmatch.fnmatch(relative, pattern) for pattern in exclude):
                found.append(file)
    return found


def check_templates(paths: list[Path], exclude: Sequence[str] = ()) -> list[Problem]:
    problems = []
    for file in template_files(paths, exclude):
        try:
            where = file.resolve().relative_to(ROOT).as_posix()
        except ValueError:
            where = str(file)
        problems.extend(check_template(file, where))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[ROOT / "templates"])
    parser.add_argument("--exclude", action="append", default=[],
                        help="glob of templates to skip, relative to each folder given")
    args = parser.parse_args(argv)
    problems = check_templates(args.paths, args.exclude)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} typography problem(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
