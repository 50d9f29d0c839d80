"""Do the server verdicts, or their time, depend on the machine's load? Run and compare.

Checks a set of endpoints of the test suite's byte-exact faulty server (buffering, batching,
streaming, held headers, a single worker, a hanging HEAD, a 15 ms stream that ends by itself
from a concurrent and from a serial server) in rounds: on a quiet machine, beside a running
client suite (``sse-conformance client`` against the reference httpx client, started again
whenever it ends) and beside CPU burners (``python3 -c 'while 1: pass'``, four unless
``--burners`` says, ended by PID afterwards). Every verdict (path, rule, outcome) is compared
with the quiet round's; any difference is a flip. Each round's time is printed beside the quiet one's.

    .venv/bin/python scripts/server_stability.py                 # exit 0: 0 flips; 1: flips
    .venv/bin/python scripts/server_stability.py --rounds 3 --json out.json
    .venv/bin/python scripts/server_stability.py --path /buffered --load client
    .venv/bin/python scripts/server_stability.py --path /short --path /short-serial --burners 8

Not a unit test: it takes minutes and its point is the load it runs under.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "server")]

from faulty_server import running  # noqa: E402

from conformance.server import run_server_suite  # noqa: E402

PATHS = ["/buffered", "/batched", "/steady", "/ok-lf", "/comment-backlog", "/slow-start", "/gzip-held",
         "/headers-late", "/single-worker", "/head-hangs", "/short", "/short-serial"]
CLIENT = [str(ROOT / ".venv" / "bin" / "sse-conformance"), "client", "-q",
          "reference_clients.httpx_client:conformance_target"]
BURNERS = 4

Verdicts = dict[tuple[str, str], str]


@contextlib.contextmanager
def burners(count: int) -> Iterator[str]:
    """``count`` processes spinning on a CPU each; killed by PID on the way out."""
    procs = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(count)]
    try:
        yield f"beside {count} CPU burners (PIDs {', '.join(str(p.pid) for p in procs)})"
    finally:
        for proc in procs:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def client_suite() -> Iterator[str]:
    """The client suite against the reference httpx client, run again whenever it ends, until
    the round is over; each run is ended by PID."""
    stop, runs, current = threading.Event(), [0], [None]

    def loop() -> None:
        while not stop.is_set():
            proc = current[0] = subprocess.Popen(CLIENT, cwd=ROOT, stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.DEVNULL)
            proc.wait()
            runs[0] += 1

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    time.sleep(2.0)  # let it import and start its cases
    try:
        yield "beside a running client suite (reference httpx client)"
    finally:
        stop.set()
        if current[0] is not None and current[0].poll() is None:
            os.kill(current[0].pid, signal.SIGTERM)
        thread.join()


LOADS = {"quiet": contextlib.nullcontext, "client": client_suite, "burners": lambda: burners(BURNERS)}


def one_round(base: str, paths: list[str]) -> tuple[Verdicts, dict[str, float]]:
    outcomes: dict[tuple[str, str], set[str]] = {}
    seconds: dict[str, float] = {}
    for path in paths:
        started = time.monotonic()
        report = run_server_suite(base + path, timeout=5, max_seconds=5)
        seconds[path] = round(time.monotonic() - started, 2)
        for result in report.results:
            outcomes.setdefault((path, result.rule), set()).add(result.outcome.value)
        seen = report.meta["observations"]
        print(f"    {path:<17} {seconds[path]:6.2f} s  observations {seen['tries']}"
              f"{' (again: ' + ', '.join(seen['again']) + ')' if seen['again'] else ''}", flush=True)
    return {key: "/".join(sorted(found)) for key, found in outcomes.items()}, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="rounds under each load (default 2)")
    parser.add_argument("--path", action="append", help="only these endpoints (repeatable)")
    parser.add_argument("--load", action="append", choices=[k for k in LOADS if k != "quiet"],
                        help="only these loads (repeatable; the quiet round always runs)")
    parser.add_argument("--json", metavar="PATH", help="write the figures and flips here")
    parser.add_argument("--burners", type=int, default=BURNERS, help=f"CPU burners (default {BURNERS})")
    args = parser.parse_args()
    LOADS["burners"] = lambda: burners(args.burners)
    paths = args.path or PATHS
    figures: dict[str, list[dict[str, float]]] = {}
    flips: list[str] = []
    with running() as base:
        quiet: Verdicts = {}
        for load in ["quiet", *(args.load or [k for k in LOADS if k != "quiet"])]:
            for n in range(1, args.rounds + 1):
                with LOADS[load]() as label:
                    print(f"{load} round {n}: {label or 'quiet machine'} ({os.cpu_count()} CPUs)", flush=True)
                    verdicts, seconds = one_round(base, paths)
                figures.setdefault(load, []).append(seconds)
                reference = quiet or verdicts
                quiet = reference
                for key in sorted(reference.keys() | verdicts.keys()):
                    if reference.get(key) != verdicts.get(key):
                        flips.append(f"{load} round {n}: {key[0]} {key[1]}: {reference.get(key)} -> "
                                     f"{verdicts.get(key)}")
    for load, rounds in figures.items():
        total = [sum(r.values()) for r in rounds]
        print(f"{load:<8} total per round: {', '.join(f'{t:.1f} s' for t in total)}")
    quiet_total = min(sum(r.values()) for r in figures["quiet"])
    for load, rounds in figures.items():
        ratio = max(sum(r.values()) for r in rounds) / quiet_total
        print(f"{load:<8} slowest round / fastest quiet round: {ratio:.2f}")
    for path in paths:
        alone = min(r[path] for r in figures["quiet"])
        beside = "  ".join(f"{load} {max(r[path] for r in rounds) / alone:.2f}x"
                           for load, rounds in figures.items() if load != "quiet")
        print(f"  {path:<17} quiet {alone:.2f} s; slowest beside: {beside}")
    for line in flips:
        print(f"  FLIP {line}")
    print(f"{len(flips)} flips")
    if args.json:
        Path(args.json).write_text(json.dumps({"figures": figures, "flips": flips}, indent=2) + "\n")
    return 1 if flips else 0


if __name__ == "__main__":
    sys.exit(main())
