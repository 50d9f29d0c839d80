"""The whole generic client case set, under every chunking, against one client.

Not a test: it prints the wall time, the CPU seconds of the suite and of its client processes,
the number of case x chunking items, how many timed out, and the load average. It exits 1 when
a client that should pass everything did not (a benchmark of a wrong run means nothing).
Run from the repo root:

    .venv/bin/python benchmarks/bench_client_suite.py                  # Python: reference httpx
    .venv/bin/python benchmarks/bench_client_suite.py --target node    # Node (fetch + parser) via
                                                                       # the protocol, a process per CPU
    .venv/bin/python benchmarks/bench_client_suite.py --target eventsource
    .venv/bin/python benchmarks/bench_client_suite.py -j 8

The Python target is the reference httpx client with one ``httpx.Client`` per worker process
(``client=``, in ``httpx_target.py``), so the figure measures the suite rather than 80 ms of TLS
set-up per case. On a shared machine the wall time mostly measures the other jobs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time

from conformance.client.runner import DEFAULT_CONCURRENCY, ClientRun, plan_items
from conformance.client.targets import HarnessTarget
from conformance.results import Outcome, Report


def node_target(which: str) -> HarnessTarget:
    """``node``: fetch + eventsource-parser (the report's adapter), a client that never hangs, so
    the figure is the suite's; ``eventsource``: npm eventsource v2, which hangs on about 180 items."""
    from conformance.report import install
    from conformance.report.implementations import NODE_DIR

    cache = install.default_cache()
    install.npm_packages(cache, {"eventsource-parser": "^3.0.1", "es2": "npm:eventsource@^2.0.2"})
    folder = str(install.node_dir(cache))
    if which == "node":
        return HarnessTarget(["node", str(NODE_DIR / "eventsource_parser.mjs"), folder])
    argv = ["node", str(NODE_DIR / "eventsource.mjs"), folder, "es2"]
    return HarnessTarget(argv, capabilities=frozenset({"headers"}))


def cpu_seconds(who: int) -> float:
    used = resource.getrusage(who)
    return used.ru_utime + used.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("python", "node", "eventsource"), default="python")
    parser.add_argument("-j", "--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    args = parser.parse_args()
    # by name, so the workers import it (this file runs as __main__, which they cannot import)
    python = "httpx_target:shared_client_target"
    target = python if args.target == "python" else node_target(args.target)
    items = len(plan_items())
    before = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    run = ClientRun(target, concurrency=args.concurrency)

    async def every_item() -> list:
        async with run.server:
            return await run.run(plan_items())

    report = Report(kind="client", target=run.name, results=asyncio.run(every_item()))
    wall = time.monotonic() - started
    suite = cpu_seconds(resource.RUSAGE_SELF) - before[0]
    clients = cpu_seconds(resource.RUSAGE_CHILDREN) - before[1]
    timed_out = len({r.name for r in report.results if "timed out" in r.message})
    bad = [r for r in report.results if r.outcome in (Outcome.FAIL, Outcome.ERROR)]
    print(
        f"client suite, {args.target} target, -j {args.concurrency}: {items} case x chunking items in "
        f"{wall:.1f} s wall; CPU {suite:.1f} s suite + {clients:.1f} s clients; {timed_out} items "
        f"timed out; load average {os.getloadavg()[0]:.1f}"
    )
    print(report.summary_line())
    if args.target == "python":
        for result in bad[:10]:
            print(f"  {result.name} {result.rule}: {result.message}", file=sys.stderr)
        return 1 if bad else 0
    return 0  # a third-party client: its failures are its own, the figure is the suite's


if __name__ == "__main__":
    sys.exit(main())
