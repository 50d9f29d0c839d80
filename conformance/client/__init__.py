"""The client suite: a case server, target adapters, a runner, and its CLI and pytest faces.

``run_client_suite(target, ...) -> Report`` is the Python API; see README.md for adapters.
The names below load on first use: a Python worker process (``conformance.client.worker``)
imports this package too, and must not pay for the case server's aiohttp at each start.
"""

from importlib import import_module
from typing import Any

_HOMES = {
    "CaseServer": "caseserver",
    **dict.fromkeys(("BackgroundRun", "ClientRun", "Item", "plan_items", "run_client_suite",
                     "run_client_suite_async"), "runner"),
    **dict.fromkeys(("CommandTarget", "Invocation", "Observation", "PythonTarget", "TargetError",
                     "load_target"), "targets"),
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'conformance.client' has no attribute {name!r}")
    return getattr(import_module(f".{home}", __name__), name)
