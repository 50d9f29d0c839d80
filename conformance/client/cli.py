"""``sse-conformance client``: run an SSE client against every client case.

Exit status: 0 when every MUST case passes (SHOULD failures are warnings; with ``--strict`` they
fail too), 1 when any fails or errors, 2 for usage errors (one line on stderr).
"""

from __future__ import annotations

import argparse
import asyncio

from ..cli import UsageError
from ..results import Report
from .cases_opts import add_selection_options
from .options import make_plan, make_target, positive
from .output import Dots, render_failures, render_rule_summary
from .processes import reaping_on_signals
from .runner import DEFAULT_CONCURRENCY, ClientRun
from .targets import TargetError

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target", nargs="?", metavar="TARGET", help="the client as module:callable (importable from here)"
    )
    parser.add_argument(
        "--cmd",
        metavar="COMMAND",
        help="a client in any language, one process per case: 'PROGRAM ARGS {url}', printing one "
        "JSON event per line",
    )
    parser.add_argument(
        "--harness",
        metavar="COMMAND",
        help="a long-lived adapter speaking the persistent JSON-lines protocol "
        "(conformance/client/README.md): one process serves every case",
    )
    add_selection_options(parser)
    parser.add_argument(
        "--capability",
        action="append",
        default=[],
        metavar="NAME",
        help="declare an optional feature (repeatable): reconnect, last-event-id, retry, post, "
        "headers, comments, open, close",
    )
    parser.add_argument("--timeout-scale", default="1", metavar="F", help="multiply every time bound by F")
    parser.add_argument(
        "-j",
        "--concurrency",
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"cases run at once (default {DEFAULT_CONCURRENCY}: 8 per CPU); a failure that rests on "
        "a time bound is always confirmed by running that case again alone",
    )
    parser.add_argument("--json-report", metavar="PATH", help="write the JSON report here")
    parser.add_argument("--junit-xml", metavar="PATH", help="write a JUnit XML report here")
    parser.add_argument("-q", "--quiet", action="store_true", help="only the failures and the summary line")
    parser.add_argument("--strict", action="store_true",
                        help="fail (exit 1) on every SHOULD finding too, not only on MUSTs")


def run(args: argparse.Namespace) -> int:
    target = make_target(args.target, args.cmd, args.capability, harness=args.harness)
    scale = positive(args.timeout_scale, "--timeout-scale")
    concurrency = int(positive(args.concurrency, "--concurrency"))
    items = make_plan(profile=args.profile, pattern=args.k, chunkings=args.chunking)
    client = ClientRun(target, timeout_scale=scale, concurrency=concurrency)
    dots = Dots(len(items))

    async def main() -> list:
        async with client.server:
            return await client.run(items, dots)

    with reaping_on_signals():
        try:
            results = asyncio.run(main())
        except TargetError as error:
            raise UsageError(str(error)) from None
    dots.finish()
    report = Report(
        kind="client",
        target=client.name,
        results=results,
        meta={"profile": args.profile, "capabilities": sorted(client.capabilities), "pattern": args.k},
        strict=args.strict,
    )
    if args.json_report:
        report.write_json(args.json_report)
    if args.junit_xml:
        report.write_junit(args.junit_xml)
    if not args.quiet:
        print(render_rule_summary(report))
        print()
    failures = render_failures(report)
    if failures:
        print(failures)
        print()
    print(report.summary_line())
    return 0 if report.ok else 1
