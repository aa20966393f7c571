"""Declared dependencies match what gzspatial imports: nothing imported undeclared, nothing declared unused."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from .conftest import ROOT

#: Packages used without an import statement: (distribution, how it is used).
USED_WITHOUT_IMPORT = {
    "mplfonts": "figure.py reads its font file with importlib.resources.files('mplfonts')",
}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_normalise(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0]) for spec in project["dependencies"]}


def _imported_modules() -> set[str]:
    found = set()
    for path in (ROOT / "gzspatial").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"gzspatial"}


def _imported_distributions() -> dict[str, set[str]]:
    """{distribution: modules of it imported by gzspatial} (a module of several distributions counts for each)."""
    owners = packages_distributions()
    found: dict[str, set[str]] = {}
    for module in _imported_modules():
        for distribution in owners.get(module, [module]):
            found.setdefault(_normalise(distribution), set()).add(module)
    return found


def test_every_import_is_declared():
    declared = _declared()
    imported = _imported_distributions()
    # a module shipped inside a declared distribution (mpl_toolkits is matplotlib's) counts as declared
    undeclared = {d: m for d, m in imported.items() if d not in declared}
    assert undeclared == {}, f"imported but not in pyproject dependencies: {undeclared}"


def test_every_declared_dependency_is_used():
    used = set(_imported_distributions()) | set(USED_WITHOUT_IMPORT)
    unused = sorted(_declared() - used)
    assert unused == [], f"declared in pyproject but never imported by gzspatial: {unused}"
