"""The client suite: a case server, target adapters, a runner, and its CLI and pytest faces.

``run_client_suite(target, ...) -> Report`` is the Python API; see README.md for adapters.
"""

from .caseserver import CaseServer
from .runner import BackgroundRun, ClientRun, Item, plan_items, run_client_suite, run_client_suite_async
from .targets import CommandTarget, Invocation, Observation, PythonTarget, TargetError, load_target

__all__ = [
    "BackgroundRun",
    "CaseServer",
    "ClientRun",
    "CommandTarget",
    "Invocation",
    "Item",
    "Observation",
    "PythonTarget",
    "TargetError",
    "load_target",
    "plan_items",
    "run_client_suite",
    "run_client_suite_async",
]
