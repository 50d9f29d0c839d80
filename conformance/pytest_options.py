"""The pytest plugin's options, declared with the standard library only.

Why a table here and not in the faces: pytest reads options at start-up in every test run of a
project that installs this package, so declaring them must import nothing heavy (no httpx,
aiohttp, checks) and print nothing. The faces are imported only once an option is given.
"""

from __future__ import annotations

from typing import Any

from .rules import PROFILES

__all__ = ["OPTIONS", "add_options", "given"]

# flag -> add_option keyword arguments; a flag that starts a run is listed in STARTERS
OPTIONS: dict[str, dict[str, Any]] = {
    "--sse-server": dict(metavar="URL", help="check this SSE endpoint (a path with --sse-app)"),
    "--sse-app": dict(metavar="MODULE:APP", help="serve this ASGI/WSGI app on 127.0.0.1"),
    "--sse-method": dict(metavar="METHOD", help="HTTP method (default GET, POST with --sse-data)"),
    "--sse-header": dict(action="append", default=[], metavar="'Name: value'",
                         help="extra request header for --sse-server (repeatable)"),
    "--sse-data": dict(metavar="DATA", help="request body for --sse-server (implies POST, as curl -d)"),
    "--sse-profile": dict(choices=PROFILES, default="generic", help="rule profile: generic or openai"),
    "--sse-resume": dict(action="store_true", help="reconnect with Last-Event-ID and check S-19"),
    "--sse-origin": dict(metavar="ORIGIN", help="send Origin and check CORS headers (S-08)"),
    "--sse-idle": dict(type=float, metavar="SECONDS", help="check a comment arrives this often (S-18)"),
    "--sse-timeout": dict(type=float, default=10.0, metavar="S", help="seconds to wait for headers"),
    "--sse-max-events": dict(type=int, default=1000, metavar="N", help="stop reading after N events"),
    "--sse-max-seconds": dict(type=float, default=10.0, metavar="S", help="stop reading after S seconds"),
    "--sse-max-bytes": dict(type=int, default=8 << 20, metavar="N", help="stop reading after N bytes"),
    "--sse-client": dict(metavar="MODULE:CALLABLE", help="run the SSE client cases against it"),
    "--sse-client-cmd": dict(metavar="COMMAND", help="a client program: 'PROGRAM ARGS {url}'"),
    "--sse-client-harness": dict(metavar="COMMAND",
                                 help="a long-lived adapter speaking the persistent adapter protocol"),
    "--sse-capability": dict(action="append", default=[], metavar="NAME", help="declare a client capability"),
    "--sse-chunking": dict(action="append", metavar="NAME", help="only these chunkings (repeatable)"),
    "--sse-timeout-scale": dict(default="1", metavar="F", help="multiply every client time bound by F"),
    "--sse-max-memory": dict(metavar="SIZE", help="what a Python client's worker process may allocate "
                             "(default 2GiB, as the CLI's --max-memory); past it: MemoryError"),
    "--sse-strict": dict(action="store_true", help="SHOULD findings and stale baseline entries fail too"),
    "--sse-select": dict(action="append", default=[], metavar="ID",
                         help="only these rules or cases (glob, repeatable): S-09, 'C-0*', 'LE-*'"),
    "--sse-skip": dict(action="append", default=[], metavar="ID", help="leave out these rules or cases"),
    "--sse-baseline": dict(metavar="FILE", help="known failures: they xfail; passing ones are stale"),
}
STARTERS = ("--sse-server", "--sse-client", "--sse-client-cmd", "--sse-client-harness")


def add_options(group: Any) -> None:
    for flag, kwargs in OPTIONS.items():
        group.addoption(flag, dest=flag[2:].replace("-", "_"), **kwargs)


def given(config: Any) -> bool:
    """Whether any run was asked for (else the plugin stays out of the way)."""
    return any(config.getoption(flag[2:].replace("-", "_")) for flag in STARTERS)
