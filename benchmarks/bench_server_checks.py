"""Passive server checks against a local reference endpoint: how long a full run takes.

Not a test: it prints the figures and exits 1 when the median wall time of a full passive run
(both requests, the analysis and every check) exceeds the budget (5 s), 0 otherwise. Run from
the repo root:

    .venv/bin/python benchmarks/bench_server_checks.py [--kind aiohttp] [--count 20] [--rounds 5]

The endpoint is ``/events?count=N&interval=0.01`` on a reference server in this process's
background thread, so most of a run is the server's own pacing (N x 10 ms); the table splits
what the suite adds: request and read, analysis, and judging.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

import reference_servers
from conformance.server.options import Options
from conformance.server.runner import judge, observe, planned

BUDGET = 5.0


def one_run(url: str) -> tuple[float, float, int]:
    """(seconds to observe, seconds to judge, results) for one full passive run."""
    options = Options(url)
    started = time.perf_counter()
    ctx = asyncio.run(observe(options))
    observed = time.perf_counter()
    results = [r for check in planned(options) for r in judge(check, ctx)]
    return observed - started, time.perf_counter() - observed, len(results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="aiohttp", choices=reference_servers.KINDS)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with reference_servers.running(args.kind) as base:
        url = f"{base}/events?count={args.count}&interval=0.01"
        one_run(url)  # warm-up: imports, TLS context, first connection
        runs = [one_run(url) for _ in range(args.rounds)]
    totals = [a + b for a, b, _ in runs]
    median = statistics.median(totals)
    print(f"endpoint: {args.kind} {url}")
    print(f"{'run':>4} {'observe s':>10} {'judge s':>8} {'total s':>8} results")
    for i, (obs, jud, n) in enumerate(runs, 1):
        print(f"{i:>4} {obs:>10.3f} {jud:>8.4f} {obs + jud:>8.3f} {n}")
    pacing = args.count * 0.01
    print(f"median full passive run: {median:.3f} s (server pacing {pacing:.2f} s; budget {BUDGET:g} s)")
    return 0 if median <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
