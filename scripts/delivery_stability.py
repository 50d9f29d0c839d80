"""Do the server delivery verdicts depend on the machine's load? Run and compare.

Starts every real deployment of tests/server/test_server_deployments.py (those installed) and the
faulty server's delivery variants, and judges S-04, S-06, P-02 and P-06 on one observation of
each (no second observation, no gate): one round on the machine as it is, then rounds beside two
processes that burn a CPU each (``python3 -c 'while 1: pass'``, ended by PID afterwards). Any
verdict that differs between rounds is a flip.

    .venv/bin/python scripts/delivery_stability.py             # 1 round as is, 2 with burners
    .venv/bin/python scripts/delivery_stability.py --rounds 0 2 2 2

Exit 0: no flips; 1: flips (listed). Not a unit test: its point is the load it runs under.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "server")]

import apache  # noqa: E402
import express  # noqa: E402
import faulty_server  # noqa: E402
import haproxy  # noqa: E402
import lighttpd  # noqa: E402
import php_server  # noqa: E402
import varnish  # noqa: E402

from conformance.server.options import Options  # noqa: E402
from conformance.server.registry import CHECKS  # noqa: E402
from conformance.server.runner import judge, observe  # noqa: E402

RULES = ("S-04", "S-06", "P-02", "P-06")
VARIANTS = ("/app-groups", "/comment-then-held", "/gzip-header-held", "/length-streamed", "/batched",
            "/buffered", "/comment-backlog", "/live")


def verdicts(url: str) -> dict[str, str]:
    ctx = asyncio.run(observe(Options(url, timeout=8, max_seconds=8), sends=()))
    return {rule: judge(CHECKS[rule], ctx)[0].outcome.value for rule in RULES}


def deployments(origin: str, workdir: Path) -> dict[str, Callable]:
    """name -> a starter yielding the stream's URL, for each component installed here."""
    found = {
        "lighttpd stream 0": (lighttpd.find(), lambda: lighttpd.running(origin, 0, workdir), "/live"),
        "lighttpd stream 2": (lighttpd.find(), lambda: lighttpd.running(origin, 2, workdir), "/live"),
        "haproxy": (haproxy.find(), lambda: haproxy.running(origin, False, workdir), "/live"),
        "haproxy http-no-delay": (haproxy.find(), lambda: haproxy.running(origin, True, workdir), "/live"),
        "varnish do_stream off": (varnish.find(), lambda: varnish.running(origin, False, workdir), "/live"),
        "apache mod_deflate": (apache.find(), lambda: apache.running(origin, True, workdir), "/live"),
        "php output_buffering=4096": (php_server.find(), lambda: php_server.running("4096", workdir), ""),
        "php output_buffering=0": (php_server.find(), lambda: php_server.running("0", workdir), ""),
        "express compression()": (not express.absent(), lambda: express.running(False, workdir), ""),
        "express compression() + flush": (not express.absent(), lambda: express.running(True, workdir), ""),
    }
    return {name: (start, path) for name, (there, start, path) in found.items() if there}


@contextlib.contextmanager
def burning(count: int) -> Iterator[list[subprocess.Popen]]:
    procs = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(count)]
    try:
        yield procs
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, nargs="+", default=[0, 2, 2], help="burners per round")
    args = parser.parse_args()
    rows = []
    with faulty_server.running() as origin, tempfile.TemporaryDirectory() as tmp:
        starters = deployments(origin, Path(tmp))
        for burners in args.rounds:
            with burning(burners) as procs:
                row = {}
                for name, (start, path) in starters.items():
                    with start() as base:
                        row[name] = verdicts(base + path)
                for path in VARIANTS:
                    row[path] = verdicts(origin + path)
                alive = sum(p.poll() is None for p in procs)
            rows.append(row)
            print(json.dumps({"burners": burners, "alive": alive, "load": round(os.getloadavg()[0], 1),
                              "verdicts": row}), flush=True)
    flips = {k: [r[k] for r in rows] for k in rows[0] if any(r[k] != rows[0][k] for r in rows)}
    total = sum(len(v) for v in rows[0].values())
    print(f"{len(flips)} flips in {total} verdicts per round, {len(rows)} rounds")
    for name, seen in flips.items():
        print(f"  {name}: {seen}")
    return 1 if flips else 0


if __name__ == "__main__":
    sys.exit(main())
