"""Every change to a document goes through hiveo/dossier: no other module writes its rows.

Read from the source, so a new view or command that sets `archived_at` or
builds a `Document` by itself fails here before it drifts from the rules.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "hiveo"
# The write path: services.py (uploads, reviews, archive) and provider.py (provider batches).
DOORS = {PACKAGE / "dossier" / "services.py", PACKAGE / "dossier" / "provider.py"}
STATE_COLUMNS = {"is_current", "current_slot", "archived_at", "replaced_by_id", "review_state",
                 "refusal_reason", "reviewed_at", "reviewed_by_id"}


def document_writes(path: Path) -> list[str]:
    """Where `path` builds a Document, inserts into it, or sets one of its state columns."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                node.func.id == "Document" or (
                    node.func.id in ("insert", "update")
                    and any(isinstance(arg, ast.Name) and arg.id == "Document"
                            for arg in node.args))):
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node)[:60]}")
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign) else [])
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr in STATE_COLUMNS:
                found.append(f"{path.name}:{node.lineno} {ast.unparse(target)}")
    return found


def test_only_the_dossier_write_path_writes_documents():
    offenders = [hit for path in sorted(PACKAGE.rglob("*.py")) if path not in DOORS
                 for hit in document_writes(path)]
    assert offenders == []


def test_the_scan_sees_a_write(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f(d):\n    d.archived_at = 1\n    return Document(id=1)\n")
    assert len(document_writes(sample)) == 2


def test_one_function_archives():
    sources = {path: path.read_text() for path in PACKAGE.rglob("*.py")}
    archiving = [path.name for path, text in sources.items() if ".archived_at = " in text]
    assert archiving == ["services.py"]
