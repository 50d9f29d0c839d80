"""Load: many concurrent streams against each reference server, every event accounted for.

Not a test: it prints one line per server and exits 1 when any stream lost, duplicated or
reordered an event (or the run hit its time bound), 0 otherwise. Run from the repo root:

    .venv/bin/python benchmarks/bench_servers.py [--streams 1000] [--events 20] [--interval 0.05]

Each server runs as ``sse-conformance serve KIND --port 0`` in its own process (so the client
does not share a GIL with it), with its default 15 s heartbeat (the shipped configuration). An
aiohttp client opens every stream at once to ``/events?count=N&interval=S``, parses each body
with the suite's EventParser and checks it carries ids 1..N in order and then ``complete``.
Wall time runs from the first request to the last stream's end; events/s is delivered events
over that time. CPU seconds used by the server and the client process, and the load average,
are printed too: on a shared machine the wall time mostly measures the other jobs, the CPU
seconds measure the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import select
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

import aiohttp

from conformance.sse import EventParser

KINDS = ("aiohttp", "fastapi")


@dataclass
class Outcome:
    kind: str
    streams: int
    expected: int
    delivered: int = 0
    complete_streams: int = 0
    failures: int = 0
    seconds: float = 0.0
    timed_out: bool = False
    peak_active: int = 0
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.timed_out and self.failures == 0 and self.delivered == self.expected

    def line(self) -> str:
        rate = self.delivered / self.seconds if self.seconds else 0.0
        verdict = "ok" if self.ok else "FAIL"
        return (f"{self.kind:<8} {self.streams:>6} streams  {self.delivered:>8}/{self.expected:<8} events  "
                f"{self.complete_streams:>6} complete  {self.seconds:7.2f} s  {rate:>9.0f} events/s  "
                f"peak active {self.peak_active:>5}  cpu server {self.server_cpu:5.2f} s "
                f"client {self.client_cpu:5.2f} s  {verdict}"
                + (f"  ({self.failures} failed streams)" if self.failures else "")
                + ("  (time bound hit)" if self.timed_out else ""))


@contextmanager
def serve(kind: str, heartbeat: float):
    """Start ``sse-conformance serve KIND`` on a free port; yield (base URL, pid); stop it."""
    command = [sys.executable, "-m", "conformance", "serve", kind, "--port", "0",
               "--heartbeat", str(heartbeat)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        if not ready:
            raise RuntimeError(f"{kind} server did not start")
        line = process.stdout.readline()
        if " on " not in line:
            raise RuntimeError(f"{kind} server failed: {line}{process.stderr.read()}")
        yield line.split(" on ")[1].split()[0], process.pid
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc (0 where there is none)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def one_stream(session: aiohttp.ClientSession, url: str, count: int) -> int:
    """Read one stream to its end; return the events delivered, raise if any is missing."""
    parser = EventParser()
    events = []
    async with session.get(url, headers={"Accept": "text/event-stream"}) as response:
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
        async for chunk in response.content.iter_any():
            events += parser.feed(chunk)
    numbered = [e.id for e in events if e.event == "message"]
    if numbered != [str(n) for n in range(1, count + 1)] or events[-1].event != "complete":
        raise RuntimeError(f"bad stream: {len(events)} events")
    return len(events)


async def watch_peak(session: aiohttp.ClientSession, base: str, outcome: Outcome) -> None:
    while True:
        async with session.get(base + "/stats") as response:
            active = json.loads(await response.read())["active_streams"]
        outcome.peak_active = max(outcome.peak_active, active)
        await asyncio.sleep(0.25)


async def load(kind: str, base: str, streams: int, count: int, interval: float, bound: float) -> Outcome:
    outcome = Outcome(kind, streams, streams * (count + 1))
    url = f"{base}/events?count={count}&interval={interval}"
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=bound, sock_read=bound)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session, \
            aiohttp.ClientSession() as stats_session:
        watcher = asyncio.ensure_future(watch_peak(stats_session, base, outcome))
        started = time.perf_counter()
        tasks = [asyncio.ensure_future(one_stream(session, url, count)) for _ in range(streams)]
        done, pending = await asyncio.wait(tasks, timeout=bound)
        outcome.seconds = time.perf_counter() - started
        watcher.cancel()
        for task in pending:
            task.cancel()
        outcome.timed_out = bool(pending)
        for task in done:
            if task.exception() is None:
                outcome.delivered += task.result()
                outcome.complete_streams += 1
            else:
                outcome.failures += 1
        await asyncio.gather(*pending, watcher, return_exceptions=True)
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20, help="message events per stream")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between events")
    parser.add_argument("--bound", type=float, default=120.0, help="time bound per server (s)")
    parser.add_argument("--heartbeat", type=float, default=15.0, help="server heartbeat (s), 0 = off")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    args = parser.parse_args(argv)
    print(f"{args.streams} concurrent streams of {args.events} events + complete, "
          f"{args.interval} s apart (ideal stream time {args.events * args.interval:.2f} s)")
    outcomes = []
    for kind in args.kinds:
        with serve(kind, args.heartbeat) as (base, pid):
            server_cpu, client_cpu = process_cpu(pid), own_cpu()
            outcome = asyncio.run(load(kind, base, args.streams, args.events, args.interval, args.bound))
            outcome.server_cpu = process_cpu(pid) - server_cpu
            outcome.client_cpu = own_cpu() - client_cpu
        print(outcome.line(), f" load avg {os.getloadavg()[0]:.1f}", flush=True)
        outcomes.append(outcome)
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
