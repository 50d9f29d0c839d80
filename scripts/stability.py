"""Do the client verdicts depend on the machine's load? Run and compare.

Runs the whole generic case set (every case under every chunking) against the reference httpx
client, httpx-sse and sseclient-py twice: once on a quiet machine, once beside processes that
burn a CPU each (four by default, ``--burners N``; ``python3 -c 'while 1: pass'``, ended by PID
afterwards). Every verdict
(target, rule, case, chunking, outcome) of the two rounds is compared; any difference is a flip.

    .venv/bin/python scripts/stability.py            # exit 0: 0 flips; 1: flips (listed)
    .venv/bin/python scripts/stability.py --json out.json
    .venv/bin/python scripts/stability.py --target sseclient-py -k 'DI-*'   # a narrower check

Not a unit test: it takes a few minutes and its point is the load it runs under.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conformance.client import run_client_suite  # noqa: E402

TARGETS = {
    "reference httpx": "reference_clients.httpx_client:conformance_target",
    "httpx-sse": "conformance.report.clients.httpx_sse_client:target",
    "sseclient-py": "conformance.report.clients.sseclient_py_client:target",
}
BURNERS = 4

Key = tuple[str, str, str, str]  # target, rule, case, chunking
Verdicts = dict[Key, tuple[str, str]]  # the outcome (what is compared) and its message


@contextlib.contextmanager
def cpu_burners(count: int) -> Iterator[list[int]]:
    """``count`` processes spinning on a CPU each; killed by PID on the way out."""
    procs = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(count)]
    try:
        yield [p.pid for p in procs]
    finally:
        for proc in procs:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


Figures = dict[str, dict[str, float]]


def one_round(label: str, names: list[str], pattern: str | None) -> tuple[Verdicts, Figures]:
    verdicts: Verdicts = {}
    figures: Figures = {}
    for name in names:
        started = time.monotonic()
        report = run_client_suite(TARGETS[name], pattern=pattern)
        seconds = time.monotonic() - started
        timed_out = sum(1 for r in report.results if "timed out" in r.message)
        for result in report.results:
            key = (name, result.rule, result.case or "", result.chunking or "")
            verdicts[key] = (result.outcome.value, result.message)
        figures[name] = {"seconds": round(seconds, 1), "results": len(report.results), "timed_out": timed_out}
        print(
            f"  {label:<7} {name:<16} {seconds:6.1f} s  {report.summary_line().split(': ', 1)[-1]}"
            f"  ({timed_out} timed out)",
            flush=True,
        )
    return verdicts, figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="write both rounds' figures and the flips here")
    parser.add_argument("--target", action="append", choices=list(TARGETS), help="only these (repeatable)")
    parser.add_argument("-k", metavar="PATTERN", help="only cases whose ID or description matches")
    parser.add_argument("--burners", type=int, default=BURNERS, help=f"CPU burners in round 2 ({BURNERS})")
    args = parser.parse_args()
    names = args.target or list(TARGETS)
    print(f"round 1: quiet machine ({os.cpu_count()} CPUs)", flush=True)
    quiet, quiet_figures = one_round("quiet", names, args.k)
    with cpu_burners(args.burners) as pids:
        print(f"round 2: beside {args.burners} CPU burners (PIDs {', '.join(map(str, pids))})", flush=True)
        busy, busy_figures = one_round("busy", names, args.k)
    absent = ("absent", "")
    flips = sorted(
        (key, quiet.get(key, absent), busy.get(key, absent))
        for key in quiet.keys() | busy.keys()
        if quiet.get(key, absent)[0] != busy.get(key, absent)[0]
    )
    for (name, rule, case, chunking), before, after in flips[:50]:
        print(f"  FLIP {name}: {case}[{chunking}] {rule}: {before[0]} -> {after[0]}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "quiet": quiet_figures,
                    "busy": busy_figures,
                    "verdicts": len(quiet),
                    "flips": [
                        {"target": k[0], "rule": k[1], "case": k[2], "chunking": k[3], "quiet": a[0],
                         "busy": b[0], "quiet_message": a[1], "busy_message": b[1]}
                        for k, a, b in flips
                    ],
                },
                indent=2,
            )
            + "\n"
        )
    print(f"stability: {len(quiet)} verdicts per round, {len(flips)} flips")
    return 1 if flips else 0


if __name__ == "__main__":
    sys.exit(main())
