"""pytest face: ``pytest --sse-server URL`` (or ``--sse-app module:app --sse-server /path``)
collects one test item per rule.

The endpoint is examined once per process, as by every face (``runner.Examination``): lazily,
by the first item that runs (an app is served then and stopped at exit), every rule judged at
once, and observed again within the run while a finding rests on reads where the suite's
reader was late; each item then reports its own rule. ``-k S-09`` reads the stream once, or
again when a late reader may have made some finding.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from ..plan import PlannedItem
from ..results import Result
from .options import Options, UnusableTarget, parse_header
from .registry import Check
from .runner import Examination, planned

__all__ = ["plan"]

PLACEHOLDER = "http://127.0.0.1:1"  # validates an app's path before the app is served


class _Observed:
    """The one examination of the endpoint, made by the first item that runs."""

    def __init__(self, config: pytest.Config, fields: dict[str, Any], app: Any) -> None:
        self.config, self.fields, self.app = config, fields, app
        self.found: dict[str, list[Result]] | None = None

    def verdicts(self) -> dict[str, list[Result]]:
        if self.found is None:
            fields = dict(self.fields)
            if self.app is not None:
                from ..apps import serving

                stack = contextlib.ExitStack()
                self.config.add_cleanup(stack.close)
                fields["url"] = stack.enter_context(serving(self.app)) + fields["url"]
            options = Options(**fields)
            self.found = Examination(options).verdicts(planned(options))
        return self.found


def _fields(config: pytest.Config) -> dict[str, Any]:
    get = config.getoption
    data = get("sse_data")
    return dict(
        url=get("sse_server"), profile=get("sse_profile"),
        method=(get("sse_method") or ("POST" if data is not None else "GET")).upper(),
        headers=tuple(parse_header(h) for h in get("sse_header")),
        data=data.encode() if data is not None else None, resume=get("sse_resume"),
        origin=get("sse_origin"), idle=get("sse_idle"), timeout=get("sse_timeout"),
        max_events=get("sse_max_events"), max_seconds=get("sse_max_seconds"), max_bytes=get("sse_max_bytes"))


def _app(config: pytest.Config, path: str) -> Any:
    spec = config.getoption("sse_app")
    if not spec:
        return None
    from ..apps import load_app

    if not path.startswith("/"):
        raise UnusableTarget(f"with --sse-app, --sse-server is a path such as /events, not {path!r}")
    return load_app(spec)


def _item(observed: _Observed, check: Check) -> PlannedItem:
    def run() -> list[Result]:
        return observed.verdicts()[check.rule]

    return PlannedItem(name=check.rule, rule=check.rule, run=run, face="server", rules=(check.rule,))


def plan(config: pytest.Config) -> list[PlannedItem] | None:
    if not config.getoption("sse_server"):
        return None
    from ..apps import AppError

    try:
        fields = _fields(config)
        app = _app(config, fields["url"])
        options = Options(**{**fields, "url": PLACEHOLDER + fields["url"]} if app else fields)
    except (UnusableTarget, AppError) as error:
        raise pytest.UsageError(f"--sse-server: {error}") from None
    observed = _Observed(config, fields, app)
    return [_item(observed, check) for check in planned(options)]


def target(config: pytest.Config) -> str:
    """What the JUnit testsuite property names as the target."""
    app = config.getoption("sse_app")
    return f"{app} {config.getoption('sse_server')}" if app else config.getoption("sse_server")
