"""Target adapters: run a client under test once against one case URL and observe it.

Two kinds of target, one observation shape:

* :class:`PythonTarget` wraps a callable (sync or async, a plain function, a generator or an
  async generator). It always runs in its own daemon thread, with its own event loop when it is
  async, so a client that blocks, sleeps or never returns cannot stall the run: the runner
  stops waiting at the deadline and moves on.
* :class:`CommandTarget` runs a program in any language in its own process group, which is
  killed at the deadline. It prints one JSON object per event per line (generic profile) or the
  assembled text (openai profile); a non-zero exit means it raised.

Extra inputs beyond the URL (method, headers, body, a preset Last-Event-ID) are given only when
the case needs the capability that asks for them: as keyword arguments to a callable, and as
``SSE_*`` environment variables and ``{placeholders}`` to a command (see README.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..sse import Event

__all__ = [
    "PROFILES",
    "CommandTarget",
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


class TargetError(ValueError):
    """The target itself is unusable (cannot be imported, is not callable...)."""


@dataclass(frozen=True)
class Invocation:
    """What the client is asked to do: the URL always; the rest only when a capability asks."""

    url: str
    method: str | None = None
    headers: Mapping[str, str] | None = None
    body: str | None = None
    last_event_id: str | None = None
    initial_retry_ms: int | None = None
    close_after_events: int | None = None  # the runner closes the client after this many events
    close_now: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)

    def must_close(self, count: int) -> bool:
        """Close the client now? After ``close_after_events`` events, or for 0 once the
        runner saw the request (``close_now``), before the first event is reported."""
        after = self.close_after_events
        return after is not None and (count >= after > 0 or (after == 0 and self.close_now.is_set()))

    def kwargs(self) -> dict[str, Any]:
        """The optional keyword arguments a callable receives (only the ones set)."""
        names = ("method", "headers", "body", "last_event_id", "initial_retry_ms")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


@dataclass
class Observation:
    """What the client did. ``raised`` is the client's own error (an exception, a non-zero
    exit); ``broken`` is an adapter fault the suite cannot judge (garbage output)."""

    events: list[Event] = field(default_factory=list)
    text: str | None = None
    raised: str | None = None
    broken: str | None = None
    timed_out: bool = False
    stopped_early: bool = False
    finished: bool = False
    comments: list[str] = field(default_factory=list)
    opened: bool = False
    retry: int | None = None
    stderr: str = ""
    seconds: float = 0.0

    def covers(self, expect: Any) -> bool:
        """Everything the case expects to be reported has been (events, comments, open)."""
        comments = getattr(expect, "comments", None) or ()
        return (
            len(self.events) >= len(expect.events)
            and len(self.comments) >= len(comments)
            and (self.opened or not getattr(expect, "open", False))
        )


class Watch:
    """How the runner follows a running client: :meth:`seen` is called after every reported
    event, and setting :attr:`stop` tells the target the runner has seen enough."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()

    def seen(self, observation: Observation) -> None:
        """Called after each reported event (the base watches nothing)."""


async def _race(task: asyncio.Future[Any], watch: Watch | None, deadline: float) -> str:
    """Wait for ``task``, the watch's stop, or the deadline: "done", "stopped" or "timeout"."""
    stopper = asyncio.ensure_future(watch.stop.wait()) if watch is not None else None
    waiting = {task} if stopper is None else {task, stopper}
    try:
        done, _ = await asyncio.wait(
            waiting, timeout=max(0.0, deadline - time.monotonic()), return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        if stopper is not None:
            stopper.cancel()
    if task in done:
        return "done"
    return "stopped" if done else "timeout"


_TYPE_KEYS = ("event", "type")
_ID_KEYS = ("id", "last_event_id", "lastEventId")


def _field(item: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = item.get(key) if isinstance(item, Mapping) else getattr(item, key, None)
        if value is not None:
            return value
    return None


def report_kind(item: Any) -> str:
    """An item without data may report a comment, the opening, or the retry value instead."""
    if _field(item, ("data",)) is None:
        for kind in ("comment", "open", "retry"):
            if _field(item, (kind,)) is not None:
                return kind
    return "event"


def to_event(item: Any) -> Event:
    """Normalise what a client reports into an :class:`Event`.

    Accepted: a mapping or an object exposing ``data`` plus ``event`` (or ``type``) and ``id``
    (or ``last_event_id`` / ``lastEventId``). A missing or empty type counts as "message" and a
    missing id as "" (the same leniency as LD's harness, so one gap does not cascade).
    """
    data = _field(item, ("data",))
    if data is None:
        raise TypeError(f"reported {type(item).__name__} {_short(item)} has no 'data'")
    kind = _field(item, _TYPE_KEYS) or "message"
    ident = _field(item, _ID_KEYS)
    if not all(isinstance(v, str) for v in (data, kind)) or not isinstance(ident, (str, type(None))):
        raise TypeError(f"reported event {_short(item)} has non-string fields")
    return Event(kind, data, ident or "")


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


# -- Python callables ------------------------------------------------------------------------


class PythonTarget:
    """A callable ``target(url, **optional)``; ``capabilities`` may be an attribute of it."""

    def __init__(self, func: Callable[..., Any], name: str | None = None) -> None:
        if not callable(func):
            raise TargetError(f"{name or func!r} is not callable")
        self.func = func
        self.name = name or f"{getattr(func, '__module__', '?')}:{getattr(func, '__qualname__', func)}"
        self.capabilities = frozenset(getattr(func, "capabilities", ()) or ())

    def __repr__(self) -> str:
        return f"PythonTarget({self.name!r})"

    async def observe(
        self,
        invocation: Invocation,
        *,
        profile: str,
        timeout: float,
        watch: Watch | None = None,
    ) -> Observation:
        """Run the callable in a daemon thread; stop waiting at ``timeout`` or when told to."""
        holder = _AsyncHolder()

        def work(push: Callable[..., None]) -> None:
            try:
                result = self.func(invocation.url, **invocation.kwargs())
                if inspect.isawaitable(result) or hasattr(result, "__aiter__"):
                    asyncio.run(holder.run(result, push, profile, invocation))
                elif profile == "openai":
                    push("text", result)
                else:
                    _consume(result, push, invocation)
                push("end")
            except BaseException as error:  # the client's own failure is an observation
                push("raised", error)

        try:
            return await _collect(work, f"sse-client {invocation.url}", profile, timeout, watch)
        finally:
            holder.cancel()


async def _collect(
    work: Callable[[Callable[..., None]], None],
    name: str,
    profile: str,
    timeout: float,
    watch: Watch | None,
    observation: Observation | None = None,
) -> Observation:
    """Run ``work(push)`` in a daemon thread and gather what it pushes until it ends, the
    watch says stop, or the time bound passes. Reports pushed before a stop still count."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def push(kind: str, value: Any = None) -> None:
        with contextlib.suppress(RuntimeError):  # the runner's loop may be gone already
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

    observation = observation or Observation()
    started = time.monotonic()
    threading.Thread(target=work, args=(push,), name=name, daemon=True).start()
    deadline = started + timeout
    while True:
        getter = asyncio.ensure_future(queue.get())
        how = await _race(getter, watch, deadline)
        if how != "done":
            getter.cancel()
            observation.timed_out = how == "timeout"
            observation.stopped_early = how == "stopped"
            while not queue.empty():
                if _absorb(observation, *queue.get_nowait(), profile):
                    break
            break
        kind, value = getter.result()
        if _absorb(observation, kind, value, profile):
            break
        if watch is not None and kind in ("event", "line"):
            watch.seen(observation)
    observation.seconds = time.monotonic() - started
    return observation


class _AsyncHolder:
    """Runs an async client in its worker thread's own loop, and lets the runner cancel it."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[Any] | None = None

    async def run(self, result: Any, push: Callable[..., None], profile: str, invocation: Invocation) -> None:
        self.loop = asyncio.get_running_loop()
        self.task = asyncio.current_task()
        if not hasattr(result, "__aiter__"):
            result = await result
            if profile == "openai":
                push("text", result)
                return
            if not hasattr(result, "__aiter__"):
                _consume(result, push, invocation)
                return
        count = 0
        async for item in result:
            if invocation.must_close(count):
                break
            push("event", item)
            count += 1
            if invocation.must_close(count):
                break
        if invocation.close_after_events is not None and hasattr(result, "aclose"):
            await result.aclose()  # the client's close API: stop, and never reconnect

    def cancel(self) -> None:
        if self.loop is not None and self.task is not None:
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self.task.cancel)


def _consume(result: Any, push: Callable[..., None], invocation: Invocation) -> None:
    """Report every event of a sync iterable; close it when the invocation says so."""
    iterator = iter(result)
    for count, item in enumerate(iterator):
        if invocation.must_close(count):
            break
        push("event", item)
        if invocation.must_close(count + 1):
            break
    if invocation.close_after_events is not None and hasattr(iterator, "close"):
        iterator.close()  # the client's close API: stop, and never reconnect


def _add_report(observation: Observation, item: Any) -> bool:
    """Record one reported item; False (and ``broken`` set) when it is not a valid report."""
    kind = report_kind(item)
    try:
        if kind == "event":
            observation.events.append(to_event(item))
        elif kind == "comment":
            observation.comments.append(str(_field(item, ("comment",))))
        elif kind == "open":
            observation.opened = True
        else:
            observation.retry = int(_field(item, ("retry",)))
    except (TypeError, ValueError) as error:
        observation.broken = str(error)
        return False
    return True


def _absorb(observation: Observation, kind: str, value: Any, profile: str) -> bool:
    """Add one report from a target to the observation; True when the client is done."""
    if kind == "event":
        return not _add_report(observation, value)
    if kind == "text":
        if not isinstance(value, str):
            observation.broken = f"the openai profile returns str, got {type(value).__name__}"
        else:
            observation.text = value
        return False
    if kind == "line":
        try:
            item = json.loads(value)
        except ValueError as error:
            observation.broken = f"printed a line that is not JSON ({error}): {_short(value)}"
            return True
        return not _add_report(observation, item)
    if kind == "exit":
        if value != 0:
            observation.raised = f"exit status {value}" if value > 0 else f"killed by signal {-value}"
    elif kind == "raised":
        if profile == "generic" and isinstance(value, TypeError) and "not iterable" in str(value):
            observation.broken = f"the generic profile returns an iterable of events: {value}"
        else:
            observation.raised = _describe_error(value)
    observation.finished = True
    return True


# -- commands in any language ----------------------------------------------------------------


@dataclass(frozen=True)
class CommandTarget:
    """``CommandTarget("node client.js {url}")``: a program that prints what it receives.

    Placeholders ``{url}``, ``{method}``, ``{body}``, ``{last_event_id}`` are replaced inside
    each argument (after shell-style splitting, so no quoting is needed); the same values and
    ``SSE_HEADERS`` (JSON) are in the environment as ``SSE_URL``, ``SSE_METHOD``...
    """

    command: str
    capabilities: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        try:
            argv = shlex.split(self.command)
        except ValueError as error:
            raise TargetError(f"cannot split --cmd {self.command!r}: {error}") from None
        if not argv:
            raise TargetError("--cmd is empty")

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
        """Run the program in its own process group; it is killed when the runner stops."""
        try:
            proc = subprocess.Popen(
                self.argv(invocation),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self.environment(invocation),
                start_new_session=True,
            )
        except OSError as error:
            raise TargetError(f"cannot start {self.command!r}: {error}") from None
        stderr: list[bytes] = []
        threading.Thread(target=_tail, args=(proc.stderr, stderr), daemon=True).start()

        def work(push: Callable[..., None]) -> None:
            assert proc.stdout is not None
            if profile == "openai":
                text = proc.stdout.read().decode("utf-8", "replace")
                push("text", text[:-1] if text.endswith("\n") else text)
            else:
                for line in proc.stdout:
                    if line.strip():
                        push("line", line.decode("utf-8", "replace"))
            push("exit", proc.wait())

        try:
            observation = await _collect(work, f"sse-client {self.command}", profile, timeout, watch)
        finally:
            _kill(proc)
        observation.stderr = b"".join(stderr)[-_STDERR_TAIL:].decode("utf-8", "replace")
        return observation


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)


def _tail(stream: Any, kept: list[bytes]) -> None:
    """Read a stream to its end, keeping only the last few KiB (a client may print forever)."""
    with contextlib.suppress(OSError, ValueError):
        for chunk in iter(lambda: stream.read1(65536), b""):
            kept.append(chunk)
            if sum(map(len, kept)) > 2 * _STDERR_TAIL:
                kept[:] = [b"".join(kept)[-_STDERR_TAIL:]]


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


# -- loading ---------------------------------------------------------------------------------

Target = PythonTarget | CommandTarget


def load_target(spec: Any) -> Target:
    """A Python callable, a ``"module:callable"`` string, or a :class:`CommandTarget`."""
    if isinstance(spec, (PythonTarget, CommandTarget)):
        return spec
    if callable(spec):
        return PythonTarget(spec)
    if not isinstance(spec, str):
        raise TargetError(f"a target is a callable, 'module:callable' or CommandTarget, not {spec!r}")
    module_name, colon, attr = spec.partition(":")
    if not colon or not module_name or not attr:
        raise TargetError(f"target {spec!r} is not 'module:callable' (use --cmd for a program)")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # importable from the working directory
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as error:  # a broken module is a usage problem, reported in one line
        raise TargetError(f"cannot import {module_name!r}: {_describe_error(error)}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f"module {module_name!r} has no attribute {attr!r}") from None
    return PythonTarget(obj, name=spec)
