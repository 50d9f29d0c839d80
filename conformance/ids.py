"""The IDs each suite answers for: the server suite's rules, and the client's rules and cases.

Both commands check a ``--select``/``--skip`` against them before a run (a selection of only the
other suite's IDs ran nothing and passed: issue 25). It reads both suites' tables, so it sits
beside the faces: each suite's command imports it, and neither suite imports the other.
"""

from __future__ import annotations

from .cases import load_cases
from .rules import RULES
from .server.registry import CHECKS

__all__ = ["server_and_client_ids"]


def server_and_client_ids() -> tuple[list[str], dict[str, list[str]]]:
    """The rules the server suite checks, and the client rules and cases it does not."""
    server = sorted({check.rule for check in CHECKS.values()})
    client = [rule for rule in RULES if rule not in server] + [case.id for case in load_cases()]
    return server, {"client": client}
