"""One release of one library as the report would run it: its row, pinned to that release.

The report's row files say how to run each library (adapter, capabilities, server command); a
validation run reuses them unchanged except for the version: each release gets a private cache
folder (its own ``pip --target`` folder or npm ``node_modules``), so two releases of one library
never share an install and the suite's own environment is never touched.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import sys
from pathlib import Path

from ..report import install
from ..report.implementations import Row, builtin_rows
from .bugs import Bug

__all__ = ["Release", "release"]


@dataclasses.dataclass(frozen=True)
class Release:
    """A bug's library at one version: where it installs and the row that runs it."""

    bug: Bug
    version: str
    cache: Path  # this release's own folder under the suite's cache
    row: Row

    @property
    def requirement(self) -> str:
        return f"{self.bug.dist}=={self.version}"

    def install(self) -> None:
        """Install this release into its folder (a no-op when it is there already)."""
        if self.bug.ecosystem == "npm":
            install.npm_packages(self.cache, {**self.row.npm(), **self.pins()})
        else:
            install.pip_target(self.cache, self.requirement, deps=self.bug.deps)

    def pins(self) -> dict[str, str]:
        """Dependencies pinned beside this release (``{package: version}``): installed at the top
        of its ``node_modules``, they are what its own range resolves to."""
        pinned = self.bug.pins.get(self.version, "")
        return dict(spec.rsplit("@", 1) for spec in pinned.split())

    def env(self) -> dict[str, str]:
        """The environment the suite runs in: a Python release's folder first on the path."""
        if self.bug.ecosystem != "pypi":
            return {}
        folder = str(install.target_dir(self.cache, self.requirement))
        inherited = os.environ.get("PYTHONPATH")
        return {"PYTHONPATH": folder + (os.pathsep + inherited if inherited else "")}

    def client_argv(self) -> list[str]:
        """``sse-conformance client`` arguments that run this release as its row does."""
        client = self.row.client
        argv = [sys.executable, "-m", "conformance", "client"]
        if "python" in client:
            argv.append(client["python"])
        elif "harness" in client:
            argv += ["--harness", shlex.join(self.row.expand(list(client["harness"]), self.cache))]
        else:
            argv += ["--cmd", shlex.join(self.row.expand(list(client["command"]), self.cache))]
        for capability in self.row.capabilities:
            argv += ["--capability", capability]
        for chunking in self.row.chunkings or ():
            argv += ["--chunking", chunking]
        if self.row.timeout_scale != 1.0:
            argv += ["--timeout-scale", f"{self.row.timeout_scale:g}"]
        return argv


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def _pinned_npm(row: Row, package: str, version: str) -> dict[str, str]:
    """The row's npm installs with ``package`` pinned to ``version`` (aliases kept)."""
    pinned = {}
    for alias, spec in row.npm().items():
        if alias == package:
            pinned[alias] = version
        elif spec.startswith(f"npm:{package}@"):
            pinned[alias] = f"npm:{package}@{version}"
        else:
            pinned[alias] = spec
    if pinned == row.npm():
        raise ValueError(f"row {row.name!r} installs no npm package {package!r}")
    return pinned


def find_row(name: str) -> Row:
    for row in builtin_rows():
        if row.name == name:
            return row
    raise ValueError(f"no report row is named {name!r} (conformance/report/rows/)")


def release(bug: Bug, version: str, cache: Path) -> Release:
    """``bug``'s library at ``version``, its row pinned to it, cached under ``cache/validation``."""
    base = find_row(bug.row)
    pins = bug.pins.get(version)
    name = f"{bug.ecosystem}-{bug.dist}-{version}" + (f"-with-{pins}" if pins else "")
    folder = cache / "validation" / _safe(name)
    if bug.ecosystem == "npm":
        row = dataclasses.replace(base, install_spec={"npm": _pinned_npm(base, bug.dist, version)})
    else:
        row = dataclasses.replace(base, install_spec={"pip_target": f"{bug.dist}=={version}"})
    return Release(bug, version, folder, row)
