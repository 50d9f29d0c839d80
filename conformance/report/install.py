"""Installs the report needs outside this environment, into a private cache (never committed).

Node packages go to ``CACHE/node`` (npm aliases, so two majors of one package coexist); the
legacy ``sseclient`` goes to ``CACHE/sseclient-legacy`` with ``pip install --target`` because
it shares its module name with sseclient-py. Each step runs only when its result is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["NPM_PACKAGES", "default_cache", "legacy_dir", "legacy_sseclient", "node_dir", "npm_packages"]

NPM_PACKAGES = {
    "es2": "npm:eventsource@^2.0.2",
    "es5": "npm:eventsource@^5.1.5",
    "@microsoft/fetch-event-source": "^2.0.1",
}
LEGACY_SSECLIENT = "sseclient==0.0.27"
INSTALL_TIMEOUT = 300.0


def default_cache() -> Path:
    """``$SSE_CONFORMANCE_CACHE``, else ``~/.cache/sse-conformance`` (outside the repository)."""
    return Path(os.environ.get("SSE_CONFORMANCE_CACHE") or Path.home() / ".cache" / "sse-conformance")


def node_dir(cache: Path) -> Path:
    return cache / "node"


def legacy_dir(cache: Path) -> Path:
    return cache / "sseclient-legacy"


def _run(argv: list[str], cwd: Path | None = None) -> None:
    """Run one install command; any failure is a RuntimeError whose text is the report's reason."""
    if shutil.which(argv[0]) is None and not Path(argv[0]).exists():
        raise RuntimeError(f"{argv[0]} not found on PATH")
    try:
        done = subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{' '.join(argv[:3])} did not finish within {INSTALL_TIMEOUT:g} s") from None
    if done.returncode != 0:
        tail = [line for line in (done.stderr + done.stdout).split("\n") if line.strip()][-1:]
        raise RuntimeError(f"{' '.join(argv[:3])} failed: {tail[0] if tail else done.returncode}")


def npm_packages(cache: Path) -> None:
    """``npm install`` the Node clients into ``CACHE/node`` unless they are all there."""
    folder = node_dir(cache)
    if all((folder / "node_modules" / name / "package.json").exists() for name in NPM_PACKAGES):
        return
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "package.json"
    if not manifest.exists():
        manifest.write_text(json.dumps({"private": True, "dependencies": {}}) + "\n")
    specs = [f"{name}@{spec}" for name, spec in NPM_PACKAGES.items()]
    _run(["npm", "install", "--no-audit", "--no-fund", "--silent", *specs], cwd=folder)


def legacy_sseclient(cache: Path) -> None:
    """``pip install --target`` the legacy sseclient unless it is there."""
    folder = legacy_dir(cache)
    if (folder / "sseclient.py").exists():
        return
    _run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(folder), LEGACY_SSECLIENT])
