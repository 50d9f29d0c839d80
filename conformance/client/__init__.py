"""The client suite: a case server, target adapters, a runner, and its CLI and pytest faces.
``run_client_suite(target, ...) -> Report`` is the Python API; see README.md for adapters.
The names below load on first use: a Python worker process imports this package too, and must
not pay for the case server's aiohttp at each start.
"""

from ..imports import lazy_names

_HOMES = {
    "CaseServer": "caseserver",
    **dict.fromkeys(("BackgroundRun", "ClientRun", "Item", "plan_items", "run_client_suite",
                     "run_client_suite_async"), "runner"),
    **dict.fromkeys(("CommandTarget", "Invocation", "Observation", "PythonTarget", "TargetError",
                     "load_target"), "targets"),
}

__all__ = sorted(_HOMES)
__getattr__ = lazy_names(__name__, _HOMES)
