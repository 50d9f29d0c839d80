"""``sse-conformance client``: run an SSE client against every client case. Exit status: 0 when
every MUST case passes (with ``--strict`` every SHOULD too), 1 when any fails or errors, 2 for
usage errors (one line on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from ..errors import UsageError
from ..explain import explain
from ..gates import add_gate_options, gate_from_args
from ..outputs import add_output_options, check_report_paths, human_stream, write_reports
from ..results import Report, timed
from ..structured import add_cases_data, add_client_data
from . import output
from .judge import judge_run
from .lanes import PER_LANE
from .options import add_selection_options, make_plan, make_target, memory_bytes, positive
from .processes import reaping_on_signals
from .runner import CAPABILITIES, DEFAULT_CONCURRENCY, ClientRun, Item, run_items
from .targets import command_line_form

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", metavar="TARGET",
                        help="the client as module:callable (importable from here)")
    parser.add_argument("--cmd", metavar="COMMAND",
                        help="a client in any language, one process per case: 'PROGRAM ARGS {url}', printing "
                        "one JSON event per line")
    parser.add_argument("--harness", metavar="COMMAND",
                        help="a long-lived adapter speaking the persistent JSON-lines protocol "
                        "(conformance/client/README.md): one process serves every case")
    add_selection_options(parser)
    parser.add_argument("--capability", action="append", default=[], metavar="NAME",
                        help="declare an optional feature (repeatable): " + ", ".join(CAPABILITIES))
    parser.add_argument("--timeout-scale", default="1", metavar="F", help="multiply every time bound by F")
    parser.add_argument("-j", "--concurrency", default=None, metavar="N",
                        help=f"cases run at once (default: {PER_LANE} per CPU for a Python callable, "
                        f"{DEFAULT_CONCURRENCY} for a program); each ends on a fact, so the number changes "
                        "only how long the run takes")
    parser.add_argument("--max-memory", default="2GiB", metavar="SIZE",
                        help="what a Python client's worker process may allocate (default 2GiB); past "
                        "it the client gets MemoryError and an error verdict that names the bound")
    add_gate_options(parser.add_argument)
    add_output_options(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="only the failures and the summary line")
    parser.add_argument("-v", "--verbose", "--trace", dest="trace", action="store_true",
                        help="for one item (-k CASE-ID --chunking NAME): the chunks served, request times "
                        "and every event the client reported; for more items: as --all")
    parser.add_argument("--all", action="store_true",
                        help="after the causes, every failing case and the per-rule table")


def run(args: argparse.Namespace) -> int:
    check_report_paths(args)
    out = human_stream(args)
    target = make_target(args.target, args.cmd, args.capability, harness=args.harness,
                         max_memory=memory_bytes(args.max_memory))
    scale = positive(args.timeout_scale, "--timeout-scale")
    concurrency = None if args.concurrency is None else int(positive(args.concurrency, "--concurrency"))
    items = make_plan(profile=args.profile, pattern=args.k, chunkings=args.chunking)
    gate = gate_from_args(args.strict, args.select, args.skip, args.baseline)
    if args.select or args.skip:  # checked before the run; the server suite is loaded only then
        from ..ids import server_and_client_ids

        server, others = server_and_client_ids()
        gate.check_selection([*others["client"], *(k for i in items for k in (i.case.id, i.name))],
                             {"server": server})
    items = [i for i in items if gate.wants(i.case.id, i.name, i.case.rules)]
    if not items:  # a run of nothing would pass: the selection is the user's mistake
        raise UsageError("--select/--skip leave no case to run (list them with: sse-conformance cases)")
    started = time.time()
    every = args.all or args.trace
    with reaping_on_signals():
        if args.trace and len(items) == 1:
            report = _traced(target, items[0], args, scale)
            print(output.render_client_trace(report.meta["trace"]) + "\n", file=out)
        else:
            dots = None if args.quiet else output.Dots(len(items), out)  # -q: no progress marks
            report = add_cases_data(run_items(target, items, profile=args.profile, timeout_scale=scale,
                                              concurrency=concurrency, progress=dots, pattern=args.k),
                                    [item.case for item in items])
            if dots is not None:
                dots.finish()
    timed(report, started)
    gate.apply(report)
    if every and not args.quiet:
        print(output.render_rule_summary(report) + "\n", file=out)
    failures = explain(report, every=every)
    if failures:
        print(failures + "\n", file=out)
    if not args.quiet:
        print(output.render_item_counts(report), file=out)
    print(report.summary_line(), file=out)
    write_reports(report, args)
    return 0 if report.ok else 1


def _traced(target: object, item: Item, args: argparse.Namespace, scale: float) -> Report:
    """``-v`` for one item: run once with nothing beside it, so the times in its trace are its own."""

    async def main() -> tuple[Any, ...]:
        client = ClientRun(target, timeout_scale=scale, concurrency=1)
        async with client.server:
            try:
                seen, slot = await client.observe(item.case, item.chunking)
            finally:
                await client.aclose()
            requests = list(slot.requests)
            return judge_run(item.case, item.chunking, seen, requests, slot.total), seen, requests

    results, seen, requests = asyncio.run(main())
    add_client_data(results, item.case)
    meta = {"profile": args.profile, "pattern": args.k, "trace": output.client_trace(item, seen, requests),
            "rerun_target": command_line_form(target, args.profile, ())}  # its capabilities: the target's
    return Report(kind="client", target=getattr(target, "name", str(target)), results=results, meta=meta)
