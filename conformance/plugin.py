"""pytest plugin (entry point ``pytest11``): a thin face over the same checks as the CLI.

It does nothing unless one of its options is given. Each suite module listed in FACES provides
``add_options(group)`` and ``plan(config) -> list[PlannedItem] | None`` (None when its options
were not given); every planned item becomes one test item, so ``-k``, ``--junitxml`` and
``-n`` work as usual.
"""

from __future__ import annotations

import importlib
import warnings

import pytest

from .plan import PlannedItem
from .results import Outcome, Result

FACES = ("conformance.server.pytest_face", "conformance.client.pytest_face")


class SSEConformanceWarning(UserWarning):
    """A SHOULD-level rule is broken: reported, never failing the run."""


def _faces():
    return [importlib.import_module(name) for name in FACES]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sse-conformance", "Server-Sent Events conformance")
    for face in _faces():
        face.add_options(group)


class SSECollector(pytest.Collector):
    def collect(self):  # pragma: no cover - items are added directly
        return []


class SSEItem(pytest.Item):
    def __init__(self, *, planned: PlannedItem, **kwargs) -> None:
        super().__init__(**kwargs)
        self.planned = planned
        for marker in planned.markers:
            self.add_marker(marker)

    def runtest(self) -> None:
        results = self.planned.run()
        self.user_properties.extend(("result", r.to_json()) for r in results)
        failed = [r for r in results if r.outcome in (Outcome.FAIL, Outcome.ERROR)]
        if failed:
            raise SSEFailure(failed)
        for r in results:
            if r.outcome is Outcome.WARN:
                warnings.warn(SSEConformanceWarning(f"{r.rule} {r.name}: {r.message}"), stacklevel=1)
        if results and all(r.outcome is Outcome.SKIP for r in results):
            pytest.skip(results[0].message)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, SSEFailure):
            return "\n\n".join(_describe(r) for r in excinfo.value.results)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"sse-conformance: {self.name}"


class SSEFailure(Exception):
    def __init__(self, results: list[Result]) -> None:
        super().__init__(results[0].message)
        self.results = results


def _describe(result: Result) -> str:
    lines = [f"{result.rule} ({result.level}) {result.outcome.value}: {result.message}"]
    lines += [f"  {label}: {value}" for label, value in result.details()]
    return "\n".join(lines)


@pytest.hookimpl(tryfirst=True)  # before -k / -m deselection sees the item list
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    planned: list[PlannedItem] = []
    for face in _faces():
        planned.extend(face.plan(config) or [])
    if not planned:
        return
    collector = SSECollector.from_parent(session, name="sse-conformance")
    new_items = [SSEItem.from_parent(collector, name=p.name, planned=p) for p in planned]
    items.extend(new_items)
