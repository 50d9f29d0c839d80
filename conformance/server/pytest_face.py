"""pytest face: ``pytest --sse-server URL`` collects one test item per rule.

The endpoint is observed once per process (lazily, by the first item that runs) and each item
judges its own rule, so ``-k S-09`` reads the stream once and judges one rule.
"""

from __future__ import annotations

import contextlib

import pytest

from ..plan import PlannedItem
from ..results import Result
from .cli import add_request_options
from .options import Options, UnusableTarget, parse_header
from .registry import Check, Context
from .runner import _run, judge, observe, planned

__all__ = ["add_options", "plan"]

_observed: dict[Options, Context] = {}


def add_options(group) -> None:
    group.addoption("--sse-server", metavar="URL", help="check this SSE endpoint, one test per rule")
    group.addoption("--sse-method", metavar="METHOD", help="HTTP method (default GET, POST with --sse-data)")
    group.addoption("--sse-header", action="append", default=[], metavar="'Name: value'",
                    help="extra request header for --sse-server (repeatable)")
    group.addoption("--sse-data", metavar="DATA", help="request body for --sse-server")

    def add(flag: str, **kwargs) -> None:
        name = flag.removeprefix("--")
        with contextlib.suppress(ValueError):  # the client face defined it first: share it
            group.addoption(f"--sse-{name}", dest="sse_" + name.replace("-", "_"), **kwargs)

    add_request_options(add)


def options_from(config: pytest.Config) -> Options | None:
    url = config.getoption("sse_server")
    if not url:
        return None
    get = config.getoption
    data = get("sse_data")
    try:
        return Options(
            url, get("sse_profile"), (get("sse_method") or ("POST" if data else "GET")).upper(),
            tuple(parse_header(h) for h in get("sse_header")), data.encode() if data else None,
            get("sse_resume"), get("sse_origin"), get("sse_idle"), get("sse_timeout"),
            get("sse_max_events"), get("sse_max_seconds"), get("sse_max_bytes"))
    except UnusableTarget as error:
        raise pytest.UsageError(f"--sse-server: {error}") from None


def _item(options: Options, check: Check) -> PlannedItem:
    def run() -> list[Result]:
        if options not in _observed:
            _observed[options] = _run(observe(options))
        return judge(check, _observed[options])

    return PlannedItem(name=check.rule, rule=check.rule, run=run)


def plan(config: pytest.Config) -> list[PlannedItem] | None:
    options = options_from(config)
    if options is None:
        return None
    return [_item(options, check) for check in planned(options)]
