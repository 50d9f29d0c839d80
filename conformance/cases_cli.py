"""``sse-conformance cases [-k PATTERN]``: the client cases with their rules and descriptions.

Why: ``-k``, ``--select`` and baselines name cases by ID; this is where a person finds the IDs
(``client -k 'FI-*'`` matched nothing because the prefix is FL).
"""

from __future__ import annotations

import argparse
import json

from .errors import UsageError
from .rules import PROFILES


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", metavar="PATTERN", help="only cases whose ID or description matches (glob)")
    parser.add_argument("--profile", choices=PROFILES, help="only this profile's cases")
    parser.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    from .cases import load_cases

    cases = load_cases(profile=args.profile, pattern=args.k)
    if not cases:
        raise UsageError(f"no case matches {args.k!r}" if args.k else "no cases")
    if args.json:
        print(json.dumps([{"id": c.id, "profile": c.profile, "level": c.level, "rules": list(c.rules),
                           "requires": list(c.requires), "description": c.description} for c in cases],
                         indent=2, ensure_ascii=False))
        return 0
    for c in cases:
        needs = f"  (needs {', '.join(c.requires)})" if c.requires else ""
        print(f"{c.id:<8} {c.profile:<8} {','.join(c.rules):<14} {c.description}{needs}")
    print(f"{len(cases)} cases")
    return 0
