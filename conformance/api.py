"""The Python API for a user's own tests: check a URL, an app or a client; get a Report.

Why beside ``run_server_suite``/``run_client_suite``: these add the CI gates (strict, select,
skip, baseline) the CLI has, with the same meanings, so ``assert report.ok, report.explain()``
in a test means what exit status 0 means on the command line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .gates import Gate, read_baseline
from .results import Report

__all__ = ["Checker", "check_client", "check_server"]


def _gate(strict: bool, select: Sequence[str], skip: Sequence[str], baseline: Any) -> Gate:
    if isinstance(baseline, (str, Path)):
        return Gate(tuple(select), tuple(skip), read_baseline(baseline), str(baseline), strict)
    return Gate(tuple(select), tuple(skip), None if baseline is None else list(baseline), None, strict)


def check_server(url: str = "/", *, app: Any = None, strict: bool = False, select: Sequence[str] = (),
                 skip: Sequence[str] = (), baseline: Any = None, **options: Any) -> Report:
    """Check an endpoint (or ``app`` served in-process, ``url`` then a path) against the server
    rules; ``options`` are those of :func:`conformance.server.run_server_suite` (``data=`` implies
    POST). ``baseline`` is a file or a list of known failures."""
    from .server import run_server_suite

    report = run_server_suite(url, app=app, **options)
    return _gate(strict, select, skip, baseline).apply(report)


def check_client(target: Any, *, strict: bool = False, select: Sequence[str] = (), skip: Sequence[str] = (),
                 baseline: Any = None, pattern: str | None = None, profile: str = "generic",
                 chunkings: Sequence[str] | None = None, **options: Any) -> Report:
    """Run the client cases against ``target`` (a callable, ``"module:callable"`` or a
    CommandTarget); cases are chosen by ``pattern`` and ``select``/``skip`` before they run.
    ``options`` are those of :func:`conformance.client.run_client_suite`."""
    from .client.runner import plan_items, run_items
    from .structured import add_cases_data

    gate = _gate(strict, select, skip, baseline)
    items = [i for i in plan_items(profile=profile, pattern=pattern, chunkings=chunkings)
             if gate.wants(i.case.id, i.name, i.case.rules)]
    report = run_items(target, items, profile=profile, pattern=pattern, **options)
    return gate.apply(add_cases_data(report, [item.case for item in items]))


class Checker:
    """What the ``sse_conformance`` fixture returns: the two checks, each report's summary line
    recorded as a property of the test (it shows in ``--junitxml``)."""

    def __init__(self, node: Any = None) -> None:
        self.node = node
        self.reports: list[Report] = []

    def _keep(self, report: Report) -> Report:
        self.reports.append(report)
        if self.node is not None:
            self.node.user_properties.append(("sse-conformance", report.summary_line()))
        return report

    def server(self, url: str = "/", **kwargs: Any) -> Report:
        """:func:`check_server`: ``sse_conformance.server("/events", app=app)``."""
        return self._keep(check_server(url, **kwargs))

    def client(self, target: Any, **kwargs: Any) -> Report:
        """:func:`check_client`: ``sse_conformance.client(my_adapter, pattern="LE-*")``."""
        return self._keep(check_client(target, **kwargs))
