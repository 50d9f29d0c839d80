"""``sse-conformance serve-cases``: the case server on its own, for clients the suite cannot start.
It prints ``serving N case URLs: http://127.0.0.1:PORT/index.json`` (also at ``/``) and serves on.
The index lists every case x chunking with its URL, rules, request log URL and ``details``, the
URL of the case's JSON, built per request so the index stays small however large a case is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from dataclasses import fields
from typing import Any

from aiohttp import web

from ..cases.model import Case, Expect
from ..errors import UsageError
from ..peer_log import one_line_request_errors
from ..rules import RULES
from .caseserver import CaseServer
from .options import add_selection_options, make_plan
from .runner import Item

__all__ = ["DETAILS", "build_index", "case_details", "configure", "run", "serve"]

DETAILS = "/index"  # GET /index/CASE-ID.json: one case's details


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, metavar="N", help="port on 127.0.0.1 (0: any free)")
    add_selection_options(parser)


def _expect_json(expect: Expect) -> dict[str, Any]:
    data = {
        "events": [e.as_dict() for e in expect.events], "text": expect.text, "retry": expect.retry,
        "requests": expect.requests, "min_reconnect_delay_ms": expect.min_reconnect_delay_ms,
        "max_reconnect_delay_ms": expect.max_reconnect_delay_ms,
        "error": expect.error or None,  # only a client that must fail is told so
    }
    return {k: v for k, v in data.items() if v is not None}


def _client_json(case: Case) -> dict[str, Any]:
    """Every option of the case's client that is set (the fields of ClientOptions)."""
    data = {f.name: getattr(case.client, f.name) for f in fields(case.client)}
    data["headers"] = dict(data["headers"])
    return {k: v for k, v in data.items() if v not in (None, {})}


def build_index(server: CaseServer, items: list[Item]) -> dict[str, Any]:
    """The compact JSON index: one short entry per case x chunking served."""
    entries = []
    for item in items:
        case = item.case
        path = f"/cases/{case.id}/{item.chunking.name}"
        entries.append({
            "name": item.name, "case": case.id, "chunking": item.chunking.name, "url": server.url(path),
            "requests_log": server.url("/_requests" + path),
            "details": server.url(f"{DETAILS}/{case.id}.json"),
            "rules": list(case.rules), "level": case.level,
        })
    return {"kind": "sse-conformance client cases", "count": len(entries), "cases": entries}


def case_details(case: Case) -> dict[str, Any]:
    """Everything about one case a driver needs: inputs, expected outcome, rules, spec link."""
    return {
        "case": case.id, "description": case.description, "rules": list(case.rules), "level": case.level,
        "spec": RULES[case.rules[0]].url if case.rules and case.rules[0] in RULES else case.spec,
        "profile": case.profile, "requires": list(case.requires), "client": _client_json(case),
        "expect": _expect_json(case.expect),
    }


async def serve(items: list[Item], port: int = 0) -> None:
    """Serve ``items`` until cancelled; print the index URL once listening."""
    server = CaseServer(request_errors=logging.getLogger("aiohttp.server"))  # one line each
    for item in items:
        server.add(item.case, item.chunking)
    index: dict[str, Any] = {}
    cases = {item.case.id: item.case for item in items}

    async def index_handler(request: web.Request) -> web.Response:
        return web.json_response(index)

    async def details_handler(request: web.Request) -> web.Response:
        case = cases.get(request.match_info["case"])
        if case is None:
            raise web.HTTPNotFound(text="no such case is served\n")
        return web.json_response(case_details(case))

    app = server.make_app()
    app.add_routes([web.get(path, index_handler) for path in ("/index.json", "/")])  # "/": opened first
    app.router.add_get(DETAILS + "/{case}.json", details_handler)
    try:
        base = await server.start(port)
    except OSError as error:  # a busy port is the user's to choose again, not a bug (issue 25)
        await server.stop()
        why = error.strerror or error
        raise UsageError(f"serve-cases: cannot listen on 127.0.0.1:{port}: {why}") from None
    index.update(build_index(server, items))
    print(f"serving {len(items)} case URLs: {base}/index.json", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be 0..65535, not {args.port}")
    items = make_plan(profile=args.profile, pattern=args.k, chunkings=args.chunking)
    one_line_request_errors()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(items, args.port))
    return 0
