"""Target adapters: run a client under test once against one case URL and observe it.

Every kind fills the same :class:`~conformance.client.observation.Observation`:

* :class:`PythonTarget` wraps a callable (sync or async, a function, a generator or an async
  generator). During a run it lives in worker processes (``conformance.client.worker``, behind
  the adapter protocol), so a client that burns CPU or holds the GIL cannot starve the case
  server. A callable that cannot be imported by name (a lambda, a closure) runs in a thread of
  this process instead, and says so in its name.
* :class:`HarnessTarget` is a long-lived program in any language speaking the persistent adapter
  protocol (``protocol.py``): one process serves many runs.
* :class:`CommandTarget` runs a program per item in its own process group, killed with its
  children when the item ends. It prints one JSON object per event per line (generic profile)
  or the assembled text (openai profile); a non-zero exit means it raised.

Extra inputs beyond the URL (method, headers, body, a preset Last-Event-ID) are given only when
the case needs the capability that asks for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import sys
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from ..imports import SpecError, import_spec
from .collect import LineTooLong, PartialLine, bounded_lines, collect, pipe_unread
from .drive import Drive, Stop
from .observation import (
    DEFAULT_LIMITS,
    Invocation,
    Limits,
    Observation,
    Watch,
    short,
    to_event,
)
from .processes import DEFAULT_MAX_MEMORY, MAX_MEMORY, cpu_seconds, kill_group, release, spawn
from .protocol import Harness, HarnessError, HarnessPool, python_worker_argv, python_worker_env
from .waiting import ProcessTree

__all__ = [
    "PROFILES",
    "CommandTarget",
    "HarnessTarget",
    "Invocation",
    "Observation",
    "PythonTarget",
    "TargetError",
    "Watch",
    "load_target",
    "to_event",
]

PROFILES = ("generic", "openai")
_STDERR_TAIL = 2000
_HANDOFF = 256  # reports an in-process client may run ahead of the runner


class TargetError(ValueError):
    """The target itself is unusable (cannot be imported, is not callable, will not start...)."""


# -- the persistent protocol (Python workers and adapters in any language) -------------------


async def _observe_on(
    pool: HarnessPool,
    invocation: Invocation,
    profile: str,
    timeout: float,
    watch: Watch | None,
) -> Observation:
    """One run on an idle process of ``pool``."""
    try:
        harness = await pool.acquire()
    except HarnessError as error:
        raise TargetError(str(error)) from None
    return await _observe_with(harness, invocation, profile, timeout, watch)


async def _observe_with(
    harness: Harness, invocation: Invocation, profile: str, timeout: float, watch: Watch | None
) -> Observation:
    """One run on ``harness`` (a process running nothing else meanwhile), with its CPU time."""
    stderr_mark = harness.stderr_read
    start_cpu = harness.process_cpu()
    seq, reports = await harness.run(invocation, profile)
    if watch is not None and harness.pid is not None:
        watch.tree = ProcessTree(harness.pid)
        watch.unread = lambda: harness.unread(seq)
        watch.close_client = lambda: asyncio.ensure_future(harness.close(seq))
    try:
        limits = harness.limits
        observation = await collect(reports, profile=profile, timeout=timeout, watch=watch, limits=limits)
        end_cpu, own = harness.process_cpu(), harness.reported_cpu(seq)
    finally:
        await harness.cancel(seq)
    if own is not None:
        observation.cpu_seconds = own  # the run's own thread, to the millisecond
    elif start_cpu is not None and end_cpu is not None:
        observation.cpu_seconds = max(0.0, end_cpu - start_cpu)  # the process's, in clock ticks
    if observation.raised and harness.last_seq == seq:
        observation.stderr = harness.stderr_tail(stderr_mark)  # what it wrote during this run
    return observation


class _Pooled:
    """A target whose runs go to a pool of protocol processes, started by :meth:`open`."""

    capabilities: frozenset[str]
    limits: Limits = DEFAULT_LIMITS
    pool: HarnessPool | None = None

    def pool_size(self, concurrency: int) -> int:
        """One process per run at once: a process is the unit whose threads show whether its
        client waits (:mod:`.waiting`), so it runs one client at a time."""
        return max(1, concurrency)

    def pool_command(self) -> tuple[list[str], dict[str, str] | None] | None:
        """The adapter's argv and environment; None runs without a pool."""
        raise NotImplementedError

    async def open(self, concurrency: int) -> None:
        """Start the first process and learn the capabilities it announces (before planning)."""
        command = self.pool_command()
        if command is None or self.pool is not None:
            return
        pool = HarnessPool(command[0], size=self.pool_size(concurrency), env=command[1], limits=self.limits)
        try:
            await pool.acquire()
        except HarnessError as error:
            raise TargetError(str(error)) from None
        self.pool = pool
        announced = pool.implementation.get("capabilities") or ()
        self.capabilities = self.capabilities | frozenset(str(c) for c in announced)

    async def aclose(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None


class HarnessTarget(_Pooled):
    """``HarnessTarget("node adapter.mjs")``: a program speaking the persistent protocol."""

    def __init__(
        self,
        command: str | list[str],
        capabilities: frozenset[str] = frozenset(),
        name: str | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.argv = _split(command) if isinstance(command, str) else list(command)
        self.name = name or " ".join(self.argv)
        self.capabilities = frozenset(capabilities)
        self.limits = limits
        self.pool = None

    def __repr__(self) -> str:
        return f"HarnessTarget({self.name!r})"

    def pool_command(self) -> tuple[list[str], dict[str, str] | None]:
        return self.argv, None

    async def observe(
        self,
        invocation: Invocation,
        *,
        profile: str,
        timeout: float,
        watch: Watch | None = None,
    ) -> Observation:
        if self.pool is None:
            await self.open(1)
        assert self.pool is not None
        return await _observe_on(self.pool, invocation, profile, timeout, watch)


# -- Python callables -------------------------------------------------------------------------


def importable_name(func: Any, name: str | None = None) -> str | None:
    """``module:attribute`` that imports back to this very object, or None (a lambda, a closure).

    Tried: the name it was loaded by, its ``__module__:__qualname__``, then any global of its
    module bound to it (a wrapper made by ``functools.wraps`` carries the wrapped name)."""
    candidates = [name] if name and ":" in name else []
    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", None)
    if module and qualname and "<" not in qualname and module != "__main__":
        candidates.append(f"{module}:{qualname}")
    for spec in candidates:
        module_name, _, attr = spec.partition(":")
        obj: Any = sys.modules.get(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part, None)
        if obj is func:
            return spec
    namespace = getattr(sys.modules.get(module or ""), "__dict__", {})
    if module and module != "__main__":
        bound = next((attr for attr, value in namespace.items() if value is func), None)
        if bound is not None:
            return f"{module}:{bound}"
    return None


class PythonTarget(_Pooled):
    """A callable ``target(url, **optional)``; ``capabilities`` may be an attribute of it.

    Runs in worker processes once :meth:`open` was awaited (the runner does) and the callable
    can be imported by name; otherwise in a thread of this process."""

    def __init__(self, func: Callable[..., Any], name: str | None = None, *, isolate: bool = True) -> None:
        if not callable(func):
            raise TargetError(f"{name or func!r} is not callable")
        self.func = func
        self.name = name or f"{getattr(func, '__module__', '?')}:{getattr(func, '__qualname__', func)}"
        self.capabilities = frozenset(getattr(func, "capabilities", ()) or ())
        self.spec = importable_name(func, name) if isolate else None
        self.max_memory: int | None = DEFAULT_MAX_MEMORY  # bytes per worker process (--max-memory)
        self.pool: HarnessPool | None = None

    def __repr__(self) -> str:
        return f"PythonTarget({self.name!r})"

    @property
    def isolated(self) -> bool:
        return self.spec is not None

    def pool_command(self) -> tuple[list[str], dict[str, str] | None] | None:
        if self.spec is None:
            return None
        bound = {MAX_MEMORY: str(self.max_memory)} if self.max_memory else {}
        return python_worker_argv(self.spec), {**python_worker_env(), **bound}

    async def observe(
        self,
        invocation: Invocation,
        *,
        profile: str,
        timeout: float,
        watch: Watch | None = None,
    ) -> Observation:
        """In a worker process when open, else in a daemon thread of this process."""
        if self.pool is not None:
            return await _observe_on(self.pool, invocation, profile, timeout, watch)
        return await self._observe_in_thread(invocation, profile, timeout, watch)

    async def _observe_in_thread(
        self, invocation: Invocation, profile: str, timeout: float, watch: Watch | None
    ) -> Observation:
        handoff = _Handoff(asyncio.get_running_loop())
        drive = Drive(self.func, invocation, profile, handoff.push)

        def work() -> None:
            try:
                drive.run()
                handoff.push("end")
            except Stop:
                return
            except BaseException as error:  # the client's own failure is an observation
                with contextlib.suppress(Stop):
                    handoff.push("raised", error)

        thread = threading.Thread(target=work, name=f"sse-client {invocation.url}", daemon=True)
        thread.start()
        if watch is not None and thread.native_id is not None:
            watch.tree = ProcessTree(os.getpid(), [thread.native_id])  # its own thread, no more
        try:
            return await collect(handoff.reports(), profile=profile, timeout=timeout, watch=watch)
        finally:
            handoff.abandon()
            drive.cancel()


class _Handoff:
    """Reports from a client thread to the runner's loop, at most ``_HANDOFF`` ahead."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.room = threading.Semaphore(_HANDOFF)
        self.abandoned = threading.Event()

    def push(self, kind: str, value: Any = None) -> None:
        while not self.room.acquire(timeout=0.1):
            if self.abandoned.is_set():
                raise Stop
        if self.abandoned.is_set():
            raise Stop
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, (kind, value))
        except RuntimeError:  # the runner's loop is gone
            raise Stop from None

    async def reports(self) -> AsyncIterator[tuple[str, Any]]:
        while True:
            kind, value = await self.queue.get()
            self.room.release()
            yield kind, value

    def abandon(self) -> None:
        self.abandoned.set()


# -- commands in any language, one process per item -------------------------------------------


def _split(command: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError as error:
        raise TargetError(f"cannot split {command!r}: {error}") from None
    if not argv:
        raise TargetError("the command is empty")
    return argv


@dataclass(frozen=True)
class CommandTarget:
    """``CommandTarget("node client.js {url}")``: a program that prints what it receives.

    Placeholders ``{url}``, ``{method}``, ``{body}``, ``{last_event_id}`` are replaced inside
    each argument (after shell-style splitting, so no quoting is needed); the same values and
    ``SSE_HEADERS`` (JSON) are in the environment as ``SSE_URL``, ``SSE_METHOD``...
    """

    command: str
    capabilities: frozenset[str] = frozenset()
    limits: Limits = DEFAULT_LIMITS

    def __post_init__(self) -> None:
        _split(self.command)

    @property
    def name(self) -> str:
        return self.command

    def argv(self, invocation: Invocation) -> list[str]:
        values = {
            "url": invocation.url,
            "method": invocation.method or "GET",
            "body": invocation.body or "",
            "last_event_id": invocation.last_event_id or "",
        }
        out = []
        for arg in shlex.split(self.command):
            for key, value in values.items():
                arg = arg.replace("{" + key + "}", value)
            out.append(arg)
        return out

    @staticmethod
    def environment(invocation: Invocation) -> dict[str, str]:
        env = dict(os.environ, SSE_URL=invocation.url)
        optional = {
            "SSE_METHOD": invocation.method,
            "SSE_HEADERS": json.dumps(dict(invocation.headers)) if invocation.headers else None,
            "SSE_BODY": invocation.body,
            "SSE_LAST_EVENT_ID": invocation.last_event_id,
            "SSE_INITIAL_RETRY_MS": _text(invocation.initial_retry_ms),
            "SSE_CLOSE_AFTER_EVENTS": _text(invocation.close_after_events),
            "SSE_READ_TIMEOUT_MS": _text(invocation.read_timeout_ms),
            "SSE_RESTART_AFTER_EVENTS": _text(invocation.restart_after_events),
        }
        env.update({k: v for k, v in optional.items() if v is not None})
        return env

    async def observe(
        self,
        invocation: Invocation,
        *,
        profile: str,
        timeout: float,
        watch: Watch | None = None,
    ) -> Observation:
        """Run the program in its own process group (always a fresh process); the group is
        killed when the run ends."""
        try:
            proc = await spawn(self.argv(invocation), env=self.environment(invocation))
        except OSError as error:
            raise TargetError(f"cannot start {self.command!r}: {error}") from None
        stderr = bytearray()
        stderr_task = asyncio.ensure_future(_tail(proc.stderr, stderr))
        partial = PartialLine()
        if watch is not None:
            watch.tree = ProcessTree(proc.pid)
            watch.unread = lambda: pipe_unread(proc.stdout)
        try:
            observation = await collect(
                _command_reports(proc, profile, self.limits, partial),
                profile=profile,
                timeout=timeout,
                watch=watch,
                limits=self.limits,
            )
            observation.cpu_seconds = cpu_seconds(proc.pid)
        finally:
            kill_group(proc.pid)
            with contextlib.suppress(asyncio.TimeoutError, TimeoutError, ProcessLookupError):
                await asyncio.wait_for(proc.wait(), 5)
            with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
                await asyncio.wait_for(stderr_task, 1)
            stderr_task.cancel()
            release(proc)
        observation.stderr = bytes(stderr[-_STDERR_TAIL:]).decode("utf-8", "replace")
        return observation


async def _command_reports(
    proc: Any, profile: str, limits: Limits, partial: PartialLine
) -> AsyncIterator[tuple[str, Any]]:
    """A command's stdout as reports: JSON lines (generic) or the whole text (openai)."""
    if profile == "openai":
        text = await proc.stdout.read(limits.total_bytes + 1)
        if len(text) > limits.total_bytes:
            yield "flood", f"printed more than {limits.total_bytes:,} bytes"
            return
        decoded = text.decode("utf-8", "replace")
        yield "text", decoded[:-1] if decoded.endswith("\n") else decoded
    else:
        total = 0
        async for line in bounded_lines(proc.stdout, limits.line_bytes, partial):
            if isinstance(line, LineTooLong):
                yield "broken", f"printed {line}"
                return
            total += len(line) + 1
            if total > limits.total_bytes:
                yield "flood", f"printed more than {limits.total_bytes:,} bytes"
                return
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as error:
                yield (
                    "broken",
                    f"printed a line that is not JSON ({error}): {short(line.decode('utf-8', 'replace'))}",
                )
                return
            yield "event", item
    yield "exit", await proc.wait()


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


async def _tail(stream: Any, kept: bytearray) -> None:
    """Read a stream to its end, keeping only the last few KiB (a client may print forever)."""
    with contextlib.suppress(OSError, ValueError, ConnectionError):
        while chunk := await stream.read(1 << 16):
            kept += chunk
            if len(kept) > 2 * _STDERR_TAIL:
                del kept[:-_STDERR_TAIL]


# -- loading ---------------------------------------------------------------------------------

Target = PythonTarget | CommandTarget | HarnessTarget


def load_target(spec: Any) -> Target:
    """A Python callable, a ``"module:callable"`` string, or a command/harness target."""
    if isinstance(spec, (PythonTarget, CommandTarget, HarnessTarget)):
        return spec
    if hasattr(spec, "observe") and hasattr(spec, "capabilities"):
        return spec  # type: ignore[no-any-return]  # another target kind (the browser)
    if callable(spec):
        return PythonTarget(spec)
    if not isinstance(spec, str):
        raise TargetError(f"a target is a callable, 'module:callable' or CommandTarget, not {spec!r}")
    if ":" not in spec:
        raise TargetError(f"target {spec!r} is not 'module:callable' (use --cmd for a program)")
    try:
        obj = import_spec(spec, example="mypkg.adapter:connect")
    except SpecError as error:
        raise TargetError(str(error)) from None
    return PythonTarget(obj, name=spec)
