"""Target adapters: run a client under test once against one case URL and fill the same
Observation: a :class:`PythonTarget` (a callable, in worker processes: :mod:`.worker`), a
:class:`HarnessTarget` (a long-lived program speaking :mod:`.protocol`, serving many runs) or a
:class:`CommandTarget` (a program per item, :mod:`.command`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from ..imports import SpecError, import_spec
from .collect import collect
from .command import CommandTarget, TargetError, split_command
from .drive import Drive, Stop
from .observation import Invocation, Observation, Watch
from .pool import HarnessPool
from .processes import DEFAULT_MAX_MEMORY, MAX_MEMORY
from .protocol import Harness, HarnessError
from .waiting import ProcessTree

__all__ = ["CommandTarget", "HarnessTarget", "Invocation", "Observation", "PythonTarget", "TargetError",
           "Watch", "command_line_form", "load_target"]

_HANDOFF = 256  # reports an in-process client may run ahead of the runner


# -- the persistent protocol (Python workers and adapters in any language) -------------------


async def _observe_with(
    harness: Harness, invocation: Invocation, profile: str, timeout: float, watch: Watch | None
) -> Observation:
    """One run on ``harness`` (a process running nothing else meanwhile), with its CPU time."""
    stderr_mark = harness.stderr.total
    start_cpu = harness.process_cpu()
    seq, reports = await harness.run(invocation, profile)
    if watch is not None and harness.pid is not None:
        watch.tree = ProcessTree(harness.pid)
        watch.unread = lambda: harness.unread(seq)
        watch.close_client = lambda: asyncio.ensure_future(harness.close(seq))
    try:
        observation = await collect(reports, profile=profile, timeout=timeout, watch=watch)
        end_cpu, own = harness.process_cpu(), harness.reported_cpu(seq)
    finally:
        await harness.cancel(seq)
    if own is not None:
        observation.cpu_seconds = own  # the run's own thread, to the millisecond
    elif start_cpu is not None and end_cpu is not None:
        observation.cpu_seconds = max(0.0, end_cpu - start_cpu)  # the process's, in clock ticks
    if observation.raised and harness.last_seq == seq:
        observation.stderr = harness.stderr.text(stderr_mark)  # what it wrote during this run
    return observation


class _Pooled:
    """A target whose runs go to a pool of protocol processes, started by :meth:`open`."""

    name: str
    capabilities: frozenset[str]
    pool: HarnessPool | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def pool_command(self) -> tuple[list[str], dict[str, str] | None] | None:
        """The adapter's argv and environment; None runs without a pool."""
        raise NotImplementedError

    async def open(self, concurrency: int) -> None:
        """Start the first process and learn the capabilities it announces (before planning)."""
        command = self.pool_command()
        if command is None or self.pool is not None:
            return
        # one process per run at once: a process is the unit whose threads show whether its
        # client waits (:mod:`.waiting`), so it runs one client at a time
        pool = HarnessPool(command[0], size=concurrency, env=command[1])
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

    async def observe(
        self, invocation: Invocation, *, profile: str, timeout: float, watch: Watch | None = None,
        fresh: bool = False,
    ) -> Observation:
        """On an idle process of the pool when open, else :meth:`observe_unpooled`; ``fresh``: on a
        process started and stopped for this run alone (an earlier run may have broken a shared one)."""
        if self.pool is None:
            return await self.observe_unpooled(invocation, profile, timeout, watch)
        try:
            harness = await (self.pool.start_one() if fresh else self.pool.acquire())
        except HarnessError as error:
            raise TargetError(str(error)) from None
        try:
            return await _observe_with(harness, invocation, profile, timeout, watch)
        finally:
            if fresh:
                await harness.stop()

    async def observe_unpooled(self, invocation: Invocation, profile: str, timeout: float,
                               watch: Watch | None) -> Observation:
        """Not opened by a runner: a pool of one."""
        await self.open(1)
        return await self.observe(invocation, profile=profile, timeout=timeout, watch=watch)


class HarnessTarget(_Pooled):
    """``HarnessTarget("node adapter.mjs")``: a program speaking the persistent protocol."""

    def __init__(self, command: str | list[str], capabilities: frozenset[str] = frozenset(),
                 name: str | None = None) -> None:
        self.argv = split_command(command) if isinstance(command, str) else list(command)
        self.name = name or " ".join(self.argv)
        self.capabilities = frozenset(capabilities)

    def pool_command(self) -> tuple[list[str], dict[str, str] | None]:
        return self.argv, None


# -- Python callables -------------------------------------------------------------------------


def importable_name(func: Any, name: str | None = None) -> str | None:
    """``module:attribute`` that imports back to this very object, or None (a lambda, a closure):
    the name it was loaded by, its ``__module__:__qualname__``, or any global of its module bound
    to it (a wrapper made by ``functools.wraps`` carries the wrapped name)."""
    candidates = [name] if name and ":" in name else []
    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", None)
    if module and module != "__main__":
        if qualname and "<" not in qualname:
            candidates.append(f"{module}:{qualname}")
        namespace = getattr(sys.modules.get(module), "__dict__", {})
        candidates += [f"{module}:{attr}" for attr, value in namespace.items() if value is func]
    for spec in candidates:
        module_name, _, attr = spec.partition(":")
        obj: Any = sys.modules.get(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part, None)
        if obj is func:
            return spec
    return None


class PythonTarget(_Pooled):
    """A callable ``target(url, **optional)`` (a function, a generator, sync or async), maybe with
    a ``capabilities`` attribute. Runs in worker processes once :meth:`open` was awaited and it
    can be imported by name; otherwise (a lambda, a closure) in a thread of this process."""

    def __init__(self, func: Callable[..., Any], name: str | None = None, *, isolate: bool = True) -> None:
        if not callable(func):
            raise TargetError(f"{name or func!r} is not callable")
        self.func = func
        self.name = name or f"{getattr(func, '__module__', '?')}:{getattr(func, '__qualname__', func)}"
        self.capabilities = frozenset(getattr(func, "capabilities", ()) or ())
        self.spec = importable_name(func, name) if isolate else None
        self.max_memory: int | None = DEFAULT_MAX_MEMORY  # bytes per worker process (--max-memory)

    def pool_command(self) -> tuple[list[str], dict[str, str] | None] | None:
        """A Python worker serving the callable over the protocol (:mod:`.worker`). It imports what
        this process can: the same ``sys.path``, the same directory."""
        if self.spec is None:
            return None
        paths = [p or os.getcwd() for p in sys.path if p == "" or os.path.isdir(p)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths), PYTHONUNBUFFERED="1")
        bound = {MAX_MEMORY: str(self.max_memory)} if self.max_memory else {}
        return [sys.executable, "-m", "conformance.client.worker", self.spec], {**env, **bound}

    async def observe_unpooled(self, invocation: Invocation, profile: str, timeout: float,
                               watch: Watch | None) -> Observation:
        """Not opened, or not importable by name: in a daemon thread of this process."""
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
            handoff.abandoned.set()
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


# -- loading ---------------------------------------------------------------------------------

Target = PythonTarget | CommandTarget | HarnessTarget


def load_target(spec: Any) -> Target:
    """A Python callable, a ``"module:callable"`` string, or a command/harness target."""
    if hasattr(spec, "observe") and hasattr(spec, "capabilities"):
        return spec  # type: ignore[no-any-return]  # a target already (of ours, or the browser)
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


def command_line_form(target: Any, profile: str, extra: Iterable[str]) -> str | None:
    """``target`` as ``sse-conformance client`` takes it, quoted, with its profile and declared capabilities
    (a callable's own come with it), for re-runs; None: it has none (a browser, an unnamed callable)."""
    if isinstance(target, CommandTarget):
        named, declared = f"--cmd {shlex.quote(target.command)}", target.capabilities
    elif isinstance(target, HarnessTarget):
        named, declared = f"--harness {shlex.quote(shlex.join(target.argv))}", target.capabilities
    elif getattr(target, "spec", None):
        own = frozenset(getattr(target.func, "capabilities", ()) or ())
        named, declared = shlex.quote(target.spec), target.capabilities - own
    else:
        return None
    options = [f"--profile {profile}"] if profile != "generic" else []
    options += [f"--capability {shlex.quote(c)}" for c in sorted(set(extra) | declared)]
    return " ".join([named, *options])
