"""The dev tools stay outside the product: the simulator is not in the wheel, and
production code never imports the simulator or `hiveo.demo`."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import setuptools

ROOT = Path(__file__).resolve().parents[2]
HIVEO = ROOT / "hiveo"
DEMO = HIVEO / "demo"


def wheel_packages() -> set[str]:
    """The packages `pip install .` puts in the wheel, as pyproject.toml tells setuptools."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    find = dict(config["packages"]["find"])
    # pyproject.toml's `find` looks for namespace packages unless told otherwise.
    finder = (setuptools.find_namespace_packages if find.pop("namespaces", True)
              else setuptools.find_packages)
    packages: set[str] = set()
    for where in find.pop("where", ["."]):
        packages.update(finder(where=str(ROOT / where), **find))
    return packages


def test_the_wheel_holds_the_portal_and_its_demo_package_but_not_the_simulator():
    assert (ROOT / "simulator" / "__init__.py").is_file()
    packages = wheel_packages()
    assert {"hiveo", "hiveo.providers", "hiveo.demo"} <= packages
    assert [name for name in packages if "simulator" in name.split(".")] == []


def _imported_modules(path: Path, source: str) -> list[tuple[str, bool]]:
    """(absolute module name, at module level?) for every import in a file of hiveo/."""
    package = ".".join(path.relative_to(ROOT).parent.parts)
    tree = ast.parse(source, filename=str(path))
    # What runs on import: everything but the bodies of functions.
    deferred = {id(inner) for node in ast.walk(tree)
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                for inner in ast.walk(node) if inner is not node}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.extend((name, id(node) not in deferred) for name in names)
    return found


def _is_within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_production_code_never_imports_the_simulator_or_the_demo_at_module_level():
    offenders = []
    for path in sorted(HIVEO.rglob("*.py")):
        if DEMO in path.parents:
            continue
        for name, at_module_level in _imported_modules(path, path.read_text()):
            if _is_within(name, "simulator") or (
                    at_module_level and _is_within(name, "hiveo.demo")):
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_the_import_scan_sees_relative_and_lazy_imports():
    # The scan above must recognise the forms it forbids, or it proves nothing.
    source = (
        "from ..demo import factories\ntry:\n    import simulator.web\nexcept ImportError:\n"
        "    pass\n"
        "def later():\n    from ..demo.load import load_command\n"
    )
    found = _imported_modules(HIVEO / "documents" / "probe.py", source)
    assert ("hiveo.demo", True) in found
    assert ("hiveo.demo", True) in _imported_modules(HIVEO / "__init__.py", "from . import demo")
    assert ("hiveo.demo.factories", True) in found
    assert ("simulator.web", True) in found
    assert ("hiveo.demo.load", False) in found
    assert ("hiveo.demo.load.load_command", False) in found


def test_starting_the_portal_and_serving_a_page_loads_no_dev_tool(tmp_path):
    script = """
import json, sys
from hiveo import create_app
app = create_app()
response = app.test_client().get("/login")
print(json.dumps({
    "status": response.status_code,
    "commands": sorted(app.cli.commands),
    "dev_modules": sorted(name for name in sys.modules
                          if name.split(".")[0] == "simulator"
                          or name == "hiveo.demo" or name.startswith("hiveo.demo.")),
}))
"""
    env = {**os.environ, "HIVEO_INSTANCE_DIR": str(tmp_path),
           "HIVEO_DATABASE_URL": f"sqlite:///{tmp_path / 'hiveo.db'}"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    seen = json.loads(result.stdout.splitlines()[-1])
    assert seen["status"] == 200
    assert "demo" in seen["commands"]
    assert seen["dev_modules"] == []


def test_the_demo_refuses_to_start_without_the_simulator_and_says_why(tmp_path):
    script = (
        "import runpy, sys\n"
        "sys.modules['simulator'] = None\n"  # what a wheel install looks like
        "runpy.run_module('hiveo.demo', run_name='__main__')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1
    assert "make demo a besoin du simulateur de fournisseurs" in result.stderr
    assert "Traceback" not in result.stderr
