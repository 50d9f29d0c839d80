"""The persistent adapter protocol: one long-lived client process, JSON lines both ways. The
adapter starts once and serves many runs, told apart by ``seq`` (first in every message about
a run, so an over-long line can still be attributed). The messages are specified by
``adapter-protocol.schema.json`` beside this file and the README's ``--harness`` section. A
Python callable runs behind it too (:mod:`.worker`): every target but a command is a Harness.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from .collect import LineTooLong, Tail, bounded_lines, pipe_unread, seq_of
from .observation import MAX_LINE_BYTES, MAX_OUTPUT_BYTES, Invocation
from .processes import (
    MAX_MEMORY,
    MEMORY_FLAGS,
    cpu_seconds,
    kill_group,
    memory_size,
    release,
    size_text,
    spawn,
)

__all__ = ["PROTOCOL_VERSION", "SCHEMA_PATH", "Harness", "HarnessError"]

PROTOCOL_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("adapter-protocol.schema.json")
START_TIMEOUT = 30.0  # an adapter idle this long (no CPU) without saying ready is broken;
START_LIMIT = 600.0  # one still busy (importing a large SDK on a loaded machine) may take this long
STOP_GRACE = 1.0
_QUEUE = 256  # reports buffered per run before the reader waits for the runner

# The keys of an adapter's reports about a run, other than its end. An "error" without "end" is a
# notification (capability notifications); with "end", the reason.
_REPORTS = ("event", "comment", "open", "retry", "error", "text")


class HarnessError(Exception):
    """The adapter could not be started or broke the protocol before it was ready."""


class _Run:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(_QUEUE)
        self.bytes = 0
        self.cancelled = False
        self.ended = False  # the adapter sent its end: nothing to cancel
        self.cpu_at_end: float | None = None  # what the adapter said the run used


LET_GO_WAIT = 2.0  # seconds a cancelled run keeps its process busy at most: a Python worker says
# within one (worker.LINGER) whether its client let go; an adapter that never says is freed then
LATE_REPORTS = 8  # reports a cancelled run may still send before its process counts as stuck on it


class Harness:
    """One adapter process and the runs in flight on it."""

    def __init__(self, argv: Sequence[str], *, env: dict[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.env = env
        self.proc: Any = None
        self.runs: dict[int, _Run] = {}
        self.healthy = True
        self.stderr = Tail()
        self._seq = itertools.count(1)
        self.last_seq = 0  # the seq of the latest run started
        self._readers: list[asyncio.Task[None]] = []  # of stdout and stderr
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self._write_lock = asyncio.Lock()
        self._late: dict[int, int] = {}  # reports of each cancelled run since its cancel
        # cancelled runs the adapter has not yet said it let go of: until it does, their client
        # may still be running in this process, and a new run here would share its CPU and GIL
        self._letting_go: set[int] = set()
        self.let_go = asyncio.Event()  # set while no cancelled run is being let go of
        self.let_go.set()

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    @property
    def in_flight(self) -> int:
        """Runs going on here: the ones in progress and the cancelled ones not yet let go of."""
        return len(self.runs) + len(self._letting_go)

    def _last_words(self) -> str:
        """``: `` and the last line the adapter wrote to stderr, to end a message ("" for none)."""
        tail = self.stderr.text().strip().splitlines()
        return f": {tail[-1]}" if tail else ""

    async def start(self, timeout: float = START_TIMEOUT) -> dict[str, Any]:
        """Start the process and wait for its ``ready``; the implementation it announced."""
        try:
            self.proc = await spawn(self.argv, env=self.env, stdin=True)
        except OSError as error:
            raise HarnessError(f"cannot start {' '.join(self.argv)!r}: {error}") from None
        self._ready = asyncio.get_running_loop().create_future()
        self._readers = [asyncio.ensure_future(c) for c in (self._read(), self.stderr.read(self.proc.stderr))]
        try:
            await self._send({"cmd": "start", "protocol": PROTOCOL_VERSION})
            hello = await self._await_ready(timeout)
        except asyncio.CancelledError:
            # nobody will hold this harness, so nobody would stop it: the process goes now,
            # without an await that a second cancellation could interrupt
            self._abandon()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError, ProcessLookupError):
                await asyncio.wait_for(self.proc.wait(), STOP_GRACE)  # reaped, its pipes closed
            raise
        except (TimeoutError, asyncio.TimeoutError):
            self._ready.cancel()  # waited for no more: its death at stop() is no news to report
            await self.stop()
            raise HarnessError(f"the adapter did not say ready (idle for {timeout:.0f} s)") from None
        except HarnessError as error:
            await self.stop()
            raise HarnessError(f"{error}{self._last_words()}") from None
        return dict(hello.get("implementation") or {})

    async def _await_ready(self, idle: float, look: float = 1.0) -> dict[str, Any]:
        """The adapter's ``ready``, waited for while it works (importing an SDK on a loaded machine
        can take minutes): TimeoutError once it used no CPU for ``idle`` s, or after START_LIMIT."""
        loop = asyncio.get_running_loop()
        started = last_work = loop.time()
        last_cpu = self.process_cpu()
        while True:
            try:
                return await asyncio.wait_for(asyncio.shield(self._ready), look)
            except (TimeoutError, asyncio.TimeoutError):
                now, cpu = loop.time(), self.process_cpu()
                if cpu is not None and (last_cpu is None or cpu > last_cpu):
                    last_cpu, last_work = cpu, now
                if now - last_work >= idle or now - started >= START_LIMIT:
                    raise

    def process_cpu(self) -> float | None:
        """The adapter process's CPU seconds so far, its ended threads included (None: not known)."""
        return None if self.proc is None else cpu_seconds(self.proc.pid)

    async def _send(self, message: dict[str, Any]) -> None:
        stdin = None if self.proc is None else self.proc.stdin
        if stdin is None or self.proc.returncode is not None or stdin.is_closing():
            return  # not started, or gone: its runs have ended with that, nothing to say to it
        async with self._write_lock:
            with contextlib.suppress(ConnectionError, RuntimeError, OSError):
                stdin.write(json.dumps(message).encode() + b"\n")
                await stdin.drain()

    async def run(self, invocation: Invocation, profile: str) -> tuple[int, AsyncIterator[tuple[str, Any]]]:
        """Start one run; its seq and the stream of its reports (ends at its ``end``)."""
        seq = self.last_seq = next(self._seq)
        run = self.runs[seq] = _Run()
        await self._send({"cmd": "run", "seq": seq, "url": invocation.url, "profile": profile,
                          "inputs": invocation.inputs()})
        return seq, self._reports(run)

    async def _reports(self, run: _Run) -> AsyncIterator[tuple[str, Any]]:
        while True:
            kind, value = await run.queue.get()
            yield kind, value
            if kind not in ("event", "text"):
                return  # the run stays known until cancel(): its CPU can still be read

    def reported_cpu(self, seq: int) -> float | None:
        """The CPU seconds the adapter said run ``seq``'s own thread used (None: it did not)."""
        run = self.runs.get(seq)
        return None if run is None else run.cpu_at_end

    def unread(self, seq: int) -> bool:
        """Are reports of run ``seq`` still on their way: written to the pipe and not yet read
        here, or read and not yet taken by the run's consumer?"""
        run = self.runs.get(seq)
        queued = run is not None and not run.queue.empty()
        return queued or (self.proc is not None and pipe_unread(self.proc.stdout))

    async def close(self, seq: int) -> None:
        """The client's own close (capability ``close``): it must stop and not reconnect."""
        await self._send({"cmd": "close", "seq": seq})

    async def cancel(self, seq: int) -> None:
        """The runner stopped waiting on ``seq``: drop its reports, ask the adapter to let go."""
        run = self.runs.pop(seq, None)
        if run is not None and not run.ended:
            self._late[seq] = 0
            run.cancelled = True
            while not run.queue.empty():  # unblocks a reader waiting to deliver to this run
                run.queue.get_nowait()
            self._letting_go.add(seq)
            self.let_go.clear()
            # an adapter that never answers frees its process anyway
            asyncio.get_running_loop().call_later(LET_GO_WAIT, self._settle, seq)
            await self._send({"cmd": "cancel", "seq": seq})

    def _settle(self, seq: int | None = None) -> None:
        """Run ``seq`` (None: every run) is let go of: the process may take a new one."""
        if seq is None:
            self._letting_go.clear()
        else:
            self._letting_go.discard(seq)
        if not self._letting_go:
            self.let_go.set()

    def _abandon(self) -> None:
        """Kill the whole process group at once and stop reading (a start that was cancelled)."""
        self.healthy = False
        if self.proc is not None:
            kill_group(self.proc.pid)
        for task in self._readers:
            task.cancel()

    async def stop(self) -> None:
        """Ask the adapter to exit, then kill its whole process group."""
        self.healthy = False
        if self.proc is None:
            return
        await self._send({"cmd": "stop"})
        with contextlib.suppress(asyncio.TimeoutError, TimeoutError, ProcessLookupError):
            await asyncio.wait_for(self.proc.wait(), STOP_GRACE)
        kill_group(self.proc.pid)
        with contextlib.suppress(asyncio.TimeoutError, TimeoutError, ProcessLookupError):
            await asyncio.wait_for(self.proc.wait(), STOP_GRACE)
        for task in self._readers:
            task.cancel()
        release(self.proc)
        self._end_all("raised", "the adapter was stopped")

    # -- reading -----------------------------------------------------------------------------
    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with contextlib.suppress(ConnectionError, OSError):
            async for line in bounded_lines(self.proc.stdout, MAX_LINE_BYTES):
                if isinstance(line, LineTooLong):
                    await self._dispatch_oversized(line)
                elif line.strip():
                    await self._dispatch(line)
        status = await self.proc.wait() if self.proc.returncode is None else self.proc.returncode
        self.healthy = False
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(
                HarnessError(f"the adapter exited (status {status}) before it was ready"))
        why = f"the adapter process exited (status {status}){self._last_words()}"
        bound = memory_size((self.env or {}).get(MAX_MEMORY, ""))
        if bound is not None and status != 0:  # a Python worker: MemoryError may have killed it
            why += f" (its memory bound is {size_text(bound)}: {MEMORY_FLAGS})"
        if len(self.runs) > 1:
            # whose client crashed it cannot be told, and a run expecting a failure must not pass
            # on another's crash: each is lost (an error, never a pass)
            self._end_all("lost", f"{why}, with {len(self.runs)} runs in flight on it")
        elif self._late:
            # a run stopped earlier here may have left its client going: whose crash, unknown
            self._end_all("lost", f"{why}, after a stopped run on it")
        else:
            self._end_all("raised", why)

    def _end_all(self, kind: str, why: str) -> None:
        self._settle()  # the process is gone, and what it ran with it
        for run in list(self.runs.values()):
            run.cancelled = True
            with contextlib.suppress(asyncio.QueueFull):
                run.queue.put_nowait((kind, why))

    async def _dispatch_oversized(self, line: LineTooLong) -> None:
        run = self.runs.get(seq_of(line.head))
        if run is not None:
            await self._deliver(run, "broken", f"the adapter printed {line} for one report")
        else:
            self.healthy = False  # a message nobody can attribute: do not trust this process

    async def _dispatch(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            run = self.runs.get(seq_of(line))
            shown = line[:80].decode("utf-8", "replace")
            if run is not None:
                await self._deliver(run, "broken", f"printed a line that is not a JSON object: {shown!r}")
            elif self._ready is not None and not self._ready.done():
                self._ready.set_exception(HarnessError(f"printed {shown!r} instead of the ready message"))
            return
        if "ready" in message and self._ready is not None and not self._ready.done():
            if message.get("ready") is True and message.get("protocol", PROTOCOL_VERSION) == PROTOCOL_VERSION:
                self._ready.set_result(message)
            else:
                protocol = message.get("protocol")
                why = message.get("error") or f"protocol {protocol!r} is not {PROTOCOL_VERSION}"
                self._ready.set_exception(HarnessError(str(why)))
            return
        seq = message["seq"] if isinstance(message.get("seq"), int) else -1  # -1: no run's
        if "cancelled" in message:
            self._settle(seq)
            if message.get("lingering"):
                self.healthy = False  # a client thread it could not stop: retire this process
            return
        run = self.runs.get(seq)
        if run is None:
            if seq in self._late:  # a cancelled run's late reports
                self._late[seq] += 1
                if self._late[seq] > LATE_REPORTS:
                    self.healthy = False  # it goes on after its cancel: retire this process
            return
        run.bytes += len(line) + 1
        if run.bytes > MAX_OUTPUT_BYTES:
            await self._deliver(run, "broken", f"printed more than {MAX_OUTPUT_BYTES:,} bytes for one run")
            return
        key = next((key for key in _REPORTS if key in message), None)
        if key is not None and "end" not in message:  # as conformance.client.collect takes reports:
            value = message[key] if key in ("event", "text") else {key: message[key]}  # an item, or text
            await self._deliver(run, "text" if key == "text" else "event", value)
            return
        end = message.get("end")
        if isinstance(message.get("cpu_seconds"), (int, float)):
            run.cpu_at_end = float(message["cpu_seconds"])
        if end in ("returned", "raised", "broken"):
            kind = "end" if end == "returned" else end
            await self._deliver(run, kind, message.get("error") or f"the client {end}")
        elif "thread" not in message:
            await self._deliver(run, "broken", f"sent a message the protocol does not know: {line[:80]!r}")

    async def _deliver(self, run: _Run, kind: str, value: Any) -> None:
        if not run.cancelled and not run.ended:
            run.ended = kind not in ("event", "text")
            await run.queue.put((kind, value))
