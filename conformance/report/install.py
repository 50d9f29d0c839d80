"""Installs the report needs outside this environment, into a private cache (never committed).

Node packages go to ``CACHE/node`` (npm aliases, so two majors of one package coexist); a pip
requirement a row installs with ``pip_target`` goes to ``CACHE/pip-NAME`` (``pip install
--target``), for libraries such as the legacy ``sseclient`` that share a module name with
another row. Each step runs only when its result is missing, one at a time (rows prepare in
parallel and npm must not run twice in one folder).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["default_cache", "node_dir", "npm_packages", "pip_target", "target_dir"]

INSTALL_TIMEOUT = 300.0
_LOCK = threading.Lock()


def default_cache() -> Path:
    """``$SSE_CONFORMANCE_CACHE``, else ``~/.cache/sse-conformance`` (outside the repository)."""
    return Path(os.environ.get("SSE_CONFORMANCE_CACHE") or Path.home() / ".cache" / "sse-conformance")


def node_dir(cache: Path) -> Path:
    return cache / "node"


def target_dir(cache: Path, requirement: str) -> Path:
    """The private folder of one ``pip_target`` requirement (named after its distribution)."""
    name = re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower() or "none"
    return cache / f"pip-{name}"


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


def npm_packages(cache: Path, packages: dict[str, str]) -> None:
    """``npm install`` ``{name or alias: spec}`` into ``CACHE/node`` unless they are all there."""
    folder = node_dir(cache)
    with _LOCK:
        if all((folder / "node_modules" / name / "package.json").exists() for name in packages):
            return
        folder.mkdir(parents=True, exist_ok=True)
        manifest = folder / "package.json"
        if not manifest.exists():
            manifest.write_text(json.dumps({"private": True, "dependencies": {}}) + "\n")
        specs = [f"{name}@{spec}" for name, spec in packages.items()]
        _run(["npm", "install", "--no-audit", "--no-fund", "--silent", *specs], cwd=folder)


def pip_target(cache: Path, requirement: str, *, deps: bool = True) -> None:
    """``pip install --target`` one requirement into its private folder unless it is there.

    ``deps=False`` installs the distribution alone, so it runs on this environment's versions of
    its dependencies (what a validation run of an old release wants for httpx, pydantic...).
    """
    folder = target_dir(cache, requirement)
    with _LOCK:
        if folder.is_dir() and any(folder.glob("*.dist-info")):
            return
        argv = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(folder), requirement]
        _run(argv if deps else [*argv, "--no-deps"])
