"""``scripts/validate-history``: replay the validation set and render docs/validation.md.

Exit 0 when every entry run is caught, 1 when one is not (misfiled, missed, unfixed, not run),
2 on bad input. ``--only`` re-runs some entries and keeps the others' last results, so the page
always shows the whole set.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..report.install import default_cache
from .bugs import BUGS_FILE, Bug, BugsError, load_bugs
from .replay import replay
from .table import render, splice

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results.json"
DOC = ROOT / "docs" / "validation.md"


def _node_version() -> str:
    try:
        return subprocess.run(
            ["node", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return "absent"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="validate-history", description=__doc__.split("\n")[0])
    parser.add_argument("--bugs", type=Path, default=BUGS_FILE, help="the validation set (TOML)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="only entries whose key contains TEXT (repeatable), e.g. 'sseclient-py 1.6'",
    )
    parser.add_argument("--quick", action="store_true", help="only the entries marked quick")
    parser.add_argument("--json", type=Path, default=RESULTS, help="results JSON to update")
    parser.add_argument("--doc", type=Path, default=DOC, help="Markdown page whose table to rewrite")
    parser.add_argument("--from-json", action="store_true", help="render --doc from --json, run nothing")
    parser.add_argument(
        "--cache", type=Path, default=None, help="install folder (default: the suite's cache)"
    )
    return parser


def _chosen(bugs: Sequence[Bug], only: list[str], quick: bool) -> list[Bug]:
    return [b for b in bugs if (not only or any(t in b.key for t in only)) and (b.quick or not quick)]


def _previous(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    return {e["key"]: e for e in json.loads(path.read_text(encoding="utf-8")).get("entries", [])}


def _document(bugs: Sequence[Bug], entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "measured": time.strftime("%Y-%m-%d", time.gmtime()),
        "suite_version": __version__,
        "python": platform.python_version(),
        "node": _node_version(),
        "entries": [entries[b.key] for b in bugs if b.key in entries],
    }


def _write_doc(path: Path, document: dict[str, Any]) -> None:
    page = path.read_text(encoding="utf-8") if path.exists() else "# Validation on real bugs\n"
    path.write_text(splice(page, render(document)), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    try:
        bugs = load_bugs(options.bugs)
        previous = _previous(options.json)
    except (BugsError, OSError, ValueError) as error:
        print(f"validate-history: {error}", file=sys.stderr)
        return 2
    if options.from_json:
        _write_doc(options.doc, json.loads(options.json.read_text(encoding="utf-8")))
        return 0
    chosen = _chosen(bugs, options.only, options.quick)
    if not chosen:
        print("validate-history: no entry matches", file=sys.stderr)
        return 2
    cache = options.cache or default_cache()
    verdicts = []
    for n, bug in enumerate(chosen, 1):
        started = time.monotonic()
        outcome = replay(bug, cache)
        entry = {"bug": dataclasses.asdict(bug), **outcome.to_json()}
        previous[bug.key] = entry
        verdicts.append(outcome.verdict)
        seconds = time.monotonic() - started
        print(
            f"[{n}/{len(chosen)} entries] {bug.key}: {outcome.verdict}"
            f"{' (' + outcome.reason + ')' if outcome.reason else ''} {seconds:.0f} s",
            flush=True,
        )
        options.json.write_text(
            json.dumps(_document(bugs, previous), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    _write_doc(options.doc, _document(bugs, previous))
    caught = verdicts.count("caught")
    print(f"{caught} of {len(verdicts)} entries caught; {options.doc} updated")
    return 0 if caught == len(verdicts) else 1
