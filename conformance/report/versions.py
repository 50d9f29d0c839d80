"""Version probes: what exactly ran goes into the report next to every verdict.

Each probe returns a version string or raises ``LookupError`` with a one-line reason.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["command_version", "npm_version", "python_version", "target_dir_version"]


def python_version(distribution: str) -> str:
    """The installed version of a Python distribution in this environment."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise LookupError(
            f"{distribution} is not installed (pip install 'sse-conformance[report]')"
        ) from None


def target_dir_version(distribution: str, directory: Path) -> str:
    """The version of a distribution installed with ``pip install --target directory``."""
    for dist in importlib.metadata.distributions(path=[str(directory)]):
        if (dist.metadata["Name"] or "").lower() == distribution.lower():
            return dist.version
    raise LookupError(f"{distribution} is not installed in {directory}")


def npm_version(node_dir: Path, package: str) -> str:
    """The version of ``package`` (an alias or a name) in ``node_dir/node_modules``."""
    manifest = node_dir / "node_modules" / package / "package.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        raise LookupError(f"npm package {package} is not installed in {node_dir}") from None


def command_version(argv: list[str], timeout: float = 20.0) -> str:
    """The first version-looking token a program prints for ``--version``."""
    if shutil.which(argv[0]) is None:
        raise LookupError(f"{argv[0]} not found on PATH")
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise LookupError(f"{' '.join(argv)} failed: {error}") from None
    match = re.search(r"\d+(\.\d+)+", out.stdout + out.stderr)
    if not match:
        raise LookupError(f"{' '.join(argv)} printed no version")
    return match.group(0)
