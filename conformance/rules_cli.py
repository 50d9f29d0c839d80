"""``sse-conformance rules [ID|PREFIX]``: the catalogue, or one rule explained in full."""

from __future__ import annotations

import argparse
import json

from .errors import UsageError
from .rules import RULES


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prefix", nargs="?", default="",
                        help="a rule ID (S-09) to explain it, or a prefix (C-, S-) to list those")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    wanted = args.prefix.upper()
    if wanted in RULES and not args.json:
        from .rules_explain import explain_rule

        print(explain_rule(RULES[wanted]))
        return 0
    rows = [r for r in RULES.values() if r.id.startswith(wanted)]
    if not rows:
        raise UsageError(f"unknown rule {args.prefix!r} (IDs look like C-08, N-11, S-09, O-02, P-01)")
    if args.json:
        print(json.dumps([{**vars(r), "url": r.url} for r in rows], indent=2))
    else:
        for r in rows:
            print(f"{r.id}  {r.level:<6}  {r.title}\n        {r.url}")
    return 0
