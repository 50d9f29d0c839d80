"""``sse-conformance rules``: print the catalogue, so a rule ID is one command away."""

from __future__ import annotations

import argparse
import json

from .rules import RULES


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prefix", nargs="?", default="", help="only IDs starting with this (C-, S-)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    rows = [r for r in RULES.values() if r.id.startswith(args.prefix.upper())]
    if args.json:
        print(json.dumps([{**vars(r), "url": r.url} for r in rows], indent=2))
    else:
        for r in rows:
            print(f"{r.id}  {r.level:<6}  {r.title}\n        {r.url}")
    return 0
