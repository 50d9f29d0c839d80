"""docs/ARCHITECTURE.md's layering rule, read from the source: a suite never imports a face.

Why a test: the rule broke once unnoticed (five suite modules imported ``cli.UsageError``); the
import graph is data, so the rule can be checked rather than remembered.
"""

from __future__ import annotations

import ast
from pathlib import Path

import conformance

ROOT = Path(conformance.__file__).resolve().parent
FACES = {"conformance.cli", "conformance.plugin", "conformance.api"}
# Modules that are faces themselves (they may import each other): the rest sit below them.
FACE_MODULES = ("conformance.cli", "conformance.plugin", "conformance.api", "conformance.__main__",
                "conformance.selftest", "conformance.rules_cli", "conformance.cases_cli",
                "conformance.report")


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, name: str) -> set[str]:
    """Every module (and ``module.name``) an ``import`` or ``from ... import`` in module ``name``
    (at ``path``) names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found |= {target} | {f"{target}.{alias.name}" for alias in node.names}
    return found


def face_imports(root: Path = ROOT) -> dict[str, set[str]]:
    """The modules below the faces that import a face, with the faces they import."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        name = module_name(path, root)
        if name == "conformance":  # the package's public names: it re-exports the API face
            continue
        if any(name == face or name.startswith(face + ".") for face in FACE_MODULES):
            continue
        faces = imported(path, name) & FACES
        if faces:
            out[name] = faces
    return out


def test_no_suite_or_shared_helper_imports_a_face():
    assert face_imports() == {}


def test_the_check_sees_a_relative_import_of_the_cli(tmp_path):
    """The checker itself: a suite module importing ``..cli`` is caught, one importing
    ``..errors`` is not."""
    suite = tmp_path / "conformance" / "client"
    suite.mkdir(parents=True)
    (tmp_path / "conformance" / "__init__.py").write_text("")
    (suite / "__init__.py").write_text("")
    (suite / "bad.py").write_text("from ..cli import UsageError\n")
    (suite / "good.py").write_text("from ..errors import UsageError\nimport conformance.display\n")
    assert face_imports(tmp_path / "conformance") == {"conformance.client.bad": {"conformance.cli"}}
