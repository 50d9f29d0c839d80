"""The whole generic client case set, under every chunking, against the reference httpx client.

Not a test: it prints the wall time, the CPU seconds of this process, the number of case x
chunking items and the load average, and exits 1 when any item failed or errored (a benchmark
of a wrong run means nothing). Run from the repo root:

    .venv/bin/python benchmarks/bench_client_suite.py [--fresh-clients] [-j 16]

By default one ``httpx.Client`` is shared by every case (the target's documented ``client=``
option); ``--fresh-clients`` lets the target build its own per case, which costs about 80 ms
of TLS set-up each and measures httpx rather than the suite. On a shared machine the wall time
mostly measures the other jobs; the CPU seconds measure the suite plus the client.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import httpx

from conformance.client.runner import DEFAULT_CONCURRENCY, plan_items, run_client_suite
from conformance.results import Outcome
from reference_clients import httpx_client


def shared_target():
    client = httpx.Client()

    def target(url: str, **options: object):
        return httpx_client.conformance_target(url, client=client, **options)

    target.capabilities = httpx_client.conformance_target.capabilities  # type: ignore[attr-defined]
    target.__module__, target.__qualname__ = "reference_clients.httpx_client", "conformance_target(shared)"
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh-clients", action="store_true", help="one httpx.Client per case")
    parser.add_argument("-j", "--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    args = parser.parse_args()
    target = httpx_client.conformance_target if args.fresh_clients else shared_target()
    items = len(plan_items())
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    report = run_client_suite(target, concurrency=args.concurrency)
    wall = time.monotonic() - started
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime
    bad = [r for r in report.results if r.outcome in (Outcome.FAIL, Outcome.ERROR)]
    print(
        f"client suite, reference httpx ({'fresh' if args.fresh_clients else 'shared'} client), "
        f"-j {args.concurrency}: {items} case x chunking items in {wall:.1f} s wall, "
        f"{cpu_seconds:.1f} s CPU; load average {os.getloadavg()[0]:.1f}"
    )
    print(report.summary_line())
    for result in bad[:10]:
        print(f"  {result.name} {result.rule}: {result.message}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
