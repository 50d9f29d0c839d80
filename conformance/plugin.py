"""pytest plugin (entry point ``pytest11``): a thin face over the same checks as the CLI.

It imports nothing heavy and prints nothing unless one of its options is given (options are
declared in ``pytest_options``). Each face module in FACES provides ``plan(config) ->
[PlannedItem] | None``; every planned item becomes one test item with the node id
``sse-conformance::<face>::<family>::<name>`` (re-runnable as an argument), its rule IDs as
``-k`` keywords, and its verdicts as JSON ``result`` properties in ``--junitxml``.

It also provides the ``sse_conformance`` fixture for checks inside a user's own tests.
"""

from __future__ import annotations

import importlib
import json
import warnings
from typing import Any

import pytest

from . import pytest_options
from .display import printable
from .errors import UsageError
from .plan import PlannedItem
from .results import BROKEN, Outcome, Result

FACES = {"server": "conformance.server.pytest_face", "client": "conformance.client.pytest_face"}
PREFIX = "sse-conformance"
_picked = pytest.StashKey[list]()
_gate = pytest.StashKey[Any]()
_results: list[Result] = []  # verdicts gathered on the controller, for the baseline's stale entries


class SSEConformanceWarning(UserWarning):
    """A SHOULD-level rule is broken: reported, failing the run only with --sse-strict."""


def pytest_addoption(parser: pytest.Parser) -> None:
    pytest_options.add_options(parser.getgroup("sse-conformance", "Server-Sent Events conformance"))


@pytest.fixture
def sse_conformance(request: pytest.FixtureRequest) -> Any:
    """Check an app, a URL or a client from a test: ``report = sse_conformance.server("/events",
    app=app)``, then ``assert report.ok, report.explain()``."""
    from .api import Checker

    return Checker(request.node)


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    """Node ids of ours given as arguments are not paths: take them out before pytest looks."""
    args = session.config.args
    ours = [a for a in args if a.split("::")[0] == PREFIX]
    session.config.stash[_picked] = ours
    if ours:
        args[:] = [a for a in args if a not in ours]


def _wanted(picked: list[str], nodeid: str, name: str) -> bool:
    """pytest's own rule for node ids (a prefix up to ``::`` or ``[``), plus ``sse-conformance::NAME``."""
    short = f"{PREFIX}::{name}"
    return any(nodeid == p or nodeid.startswith((p + "::", p + "[")) or short == p
               or short.startswith(p + "[") or (short + "[").startswith(p + "[") for p in picked)


class SSECollector(pytest.Collector):
    def collect(self) -> list:  # pragma: no cover - items are added directly
        return []


class SSEItem(pytest.Item):
    def __init__(self, *, planned: PlannedItem, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.planned = planned
        self.extra_keyword_matches.update(planned.keywords)
        for marker in planned.markers:
            self.add_marker(marker)

    def runtest(self) -> None:
        gate = self.config.stash[_gate]
        results = [gate.mark(r) for r in self.planned.run() if gate.keep(r)]
        self.user_properties.extend(("result", json.dumps(r.to_json(), ensure_ascii=False)) for r in results)
        failing = {Outcome.FAIL, Outcome.ERROR} | ({Outcome.WARN} if gate.strict else set())
        failed = [r for r in results if r.outcome in failing]
        if failed:
            raise SSEFailure(failed)
        for r in results:
            if r.outcome is Outcome.WARN:
                warnings.warn_explicit(SSEConformanceWarning(f"{_label(r)} ({r.level}): {r.message}"),
                                       SSEConformanceWarning, filename=self.nodeid, lineno=0)
        if any(r.outcome is Outcome.XFAIL for r in results):
            pytest.xfail("known failure (--sse-baseline): " + next(
                r.message for r in results if r.outcome is Outcome.XFAIL))
        if results and all(r.outcome is Outcome.SKIP for r in results):
            pytest.skip(results[0].message)

    def repr_failure(self, excinfo: Any, style: Any = None) -> Any:
        if isinstance(excinfo.value, SSEFailure):
            return "\n\n".join(_describe(r) for r in excinfo.value.results)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, self.nodeid


class SSEFailure(Exception):
    def __init__(self, results: list[Result]) -> None:
        super().__init__(results[0].message)
        self.results = results


def _label(result: Result) -> str:
    return result.rule if result.name == result.rule else f"{result.rule} {result.name}"


def _describe(result: Result) -> str:
    lines = [f"{_label(result)} ({result.level}) {result.outcome.value}: {result.message}"]
    lines += [f"  {label}: {value}" for label, value in result.details()]
    return printable("\n".join(lines))  # a client's crash text is a peer's bytes


def _plan(config: pytest.Config) -> list[tuple[str, PlannedItem]]:
    planned = []
    for face, module in FACES.items():
        try:
            planned += [(face, p) for p in importlib.import_module(module).plan(config) or []]
        except UsageError as error:  # a bad option of a face's: one line, pytest's exit status 4
            raise pytest.UsageError(str(error)) from None
    return planned


def _make_gate(config: pytest.Config, planned: list[tuple[str, PlannedItem]]) -> Any:
    from .gates import GateError, gate_from_args
    from .rules import RULES

    get = config.getoption
    try:
        gate = gate_from_args(get("sse_strict"), get("sse_select"), get("sse_skip"), get("sse_baseline"))
        gate.check_selection([*RULES, *(k for _, p in planned for k in (p.name, *p.keywords))])
    except GateError as error:
        raise pytest.UsageError(str(error).replace("--", "--sse-", 1)) from None
    return gate


@pytest.hookimpl(tryfirst=True)  # before -k / -m deselection sees the item list
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    if not pytest_options.given(config):
        return
    planned = _plan(config)
    gate = config.stash[_gate] = _make_gate(config, planned)
    collectors: dict[str, SSECollector] = {}
    new_items = []
    for face, p in planned:
        if not gate.wants(p.case, p.name, p.rules):
            continue
        nodeid = f"{PREFIX}::{face}::{p.family}"
        if nodeid not in collectors:
            collectors[nodeid] = SSECollector.from_parent(session, name=nodeid, nodeid=nodeid)
        new_items.append(SSEItem.from_parent(collectors[nodeid], name=p.name, planned=p))
    picked = session.config.stash.get(_picked, [])
    if picked:
        new_items = [i for i in new_items if _wanted(picked, i.nodeid, i.name)]
    for nodeid, collector in collectors.items():  # so "collected N items" and --collect-only count them
        mine = [i for i in new_items if i.parent is collector]
        session.ihook.pytest_collectreport(report=pytest.CollectReport(nodeid, "passed", None, mine))
    items.extend(new_items)


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if not pytest_options.given(config):
        return
    _results.clear()  # one session's verdicts (pytester may run several in one process)
    from _pytest.junitxml import xml_key  # the stash key record_testsuite_property uses

    xml = config.stash.get(xml_key, None)
    if xml is not None:
        for face, module in FACES.items():
            name = importlib.import_module(module).target(config)
            if name:
                xml.add_global_property(f"sse-conformance-{face}-target", name)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Gather verdicts on the controller (they come from xdist workers too) for the baseline."""
    if report.when == "call" and report.nodeid.startswith(PREFIX + "::"):
        _results.extend(Result.from_json(json.loads(v)) for k, v in report.user_properties if k == "result")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    _causes(terminalreporter, config)
    gate = config.stash.get(_gate, None)
    if gate is None or gate.baseline is None:
        return
    status = gate.status(_results)
    if status["stale"]:
        terminalreporter.write_sep("=", "sse-conformance: stale baseline entries", yellow=True)
        terminalreporter.write_line(f"these pass now; remove them from {gate.baseline_path}: "
                                    + ", ".join(status["stale"]))


def _causes(terminalreporter: Any, config: pytest.Config) -> None:
    """The client's failures by cause, one line each, after pytest's own per-item failures: a
    reader sees one bug as one line (as the CLI's blocks), not as 60 failed items."""
    from .explain import cause_count, cause_head, split_causes

    client = [r for r in _results if r.case]
    if not pytest_options.given(config) or not any(r.outcome in BROKEN for r in client):
        return
    from .causes import infer

    shown, alone = split_causes(infer(client))
    terminalreporter.write_sep("=", f"sse-conformance: {len(shown)} cause(s) of the client's failures"
                                    + (f", {len(alone)} failure(s) on their own" if alone else ""))
    for number, cause in enumerate(shown, 1):
        named, what = cause_head(cause)
        terminalreporter.write_line(printable(
            f"CAUSE {number} {cause.outcome.value.upper()} {named + ' ' if named else ''}{what}: "
            f"{cause_count(cause)}" + (f"; fix: {cause.fix}" if cause.fix else "")))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    gate = session.config.stash.get(_gate, None)
    if gate is not None and gate.strict and gate.baseline is not None and gate.status(_results)["stale"]:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
