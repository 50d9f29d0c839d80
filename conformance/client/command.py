"""A client as a command: one process per item, in its own process group, killed with every
descendant when the item ends. It prints one JSON object per event per line (generic profile)
or the assembled text (openai profile); a non-zero exit means it raised."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shlex
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from .collect import LineTooLong, Tail, bounded_lines, collect, pipe_unread
from .observation import MAX_LINE_BYTES, MAX_OUTPUT_BYTES, Invocation, Observation, Watch, short
from .processes import cpu_seconds, kill_group, release, spawn
from .waiting import ProcessTree

__all__ = ["CommandTarget", "TargetError", "split_command"]

_PLACEHOLDER = re.compile(r"\{(url|method|body|last_event_id)\}")  # one pass: a value is never read again


class TargetError(UsageError, ValueError):
    """The target itself is unusable (not importable, not callable, will not start): bad input."""


def split_command(command: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError as error:
        raise TargetError(f"cannot split {command!r}: {error}") from None
    if not argv:
        raise TargetError("the command is empty")
    return argv


@dataclass(frozen=True)
class CommandTarget:
    """``CommandTarget("node client.js {url}")``: a program that prints what it receives. The
    placeholders ``{url}``, ``{method}``, ``{body}``, ``{last_event_id}`` are replaced inside each
    argument (after shell-style splitting: no quoting needed); the same values and ``SSE_HEADERS``
    (JSON) are in the environment as ``SSE_URL``, ``SSE_METHOD``..."""

    command: str
    capabilities: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        split_command(self.command)

    @property
    def name(self) -> str:
        return self.command

    def argv(self, invocation: Invocation) -> list[str]:
        values = {"url": invocation.url, "method": invocation.method or "GET", "body": invocation.body or "",
                  "last_event_id": invocation.last_event_id or ""}
        return [_PLACEHOLDER.sub(lambda found: values[found[1]], arg) for arg in shlex.split(self.command)]

    @staticmethod
    def environment(invocation: Invocation) -> dict[str, str]:
        """``SSE_URL`` and each input the adapter protocol would send, as ``SSE_`` + its name in
        capitals (``SSE_LAST_EVENT_ID``); the headers as JSON, and only when there are some."""
        given = {name: value for name, value in invocation.inputs().items() if value != {}}
        inputs = {name: json.dumps(v) if name == "headers" else str(v) for name, v in given.items()}
        return dict(os.environ, SSE_URL=invocation.url, **{f"SSE_{n.upper()}": v for n, v in inputs.items()})

    async def observe(
        self, invocation: Invocation, *, profile: str, timeout: float, watch: Watch | None = None
    ) -> Observation:
        """Run the program in a fresh process group, killed when the run ends."""
        try:
            proc = await spawn(self.argv(invocation), env=self.environment(invocation))
        except OSError as error:
            raise TargetError(f"cannot start {self.command!r}: {error}") from None
        stderr = Tail()
        stderr_task = asyncio.ensure_future(stderr.read(proc.stderr))
        if watch is not None:
            watch.tree = ProcessTree(proc.pid)
            watch.unread = lambda: pipe_unread(proc.stdout)
        cpu: list[float | None] = [None]  # its latest reading (P-10): a reaped process has none
        try:
            reports = _command_reports(proc, profile, cpu)
            observation = await collect(reports, profile=profile, timeout=timeout, watch=watch)
            observation.cpu_seconds = _cpu_now(proc, cpu)
        finally:
            kill_group(proc.pid)
            with contextlib.suppress(asyncio.TimeoutError, TimeoutError, ProcessLookupError):
                await asyncio.wait_for(proc.wait(), 5)
            with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
                await asyncio.wait_for(stderr_task, 1)
            stderr_task.cancel()
            release(proc)
        observation.stderr = stderr.text()
        return observation


class _UntilExit:
    """A command's stdout, ended at its end of file or once the command exited and nothing it
    wrote is unread: a child it forked may hold the pipe open for ever. Its CPU seconds are read
    into ``cpu`` as its output comes (once it exited and was reaped there is nothing to read)."""

    def __init__(self, proc: Any, cpu: list[float | None]) -> None:
        self.proc = proc
        self.cpu = cpu
        self.stdout = proc.stdout
        self.exited: asyncio.Future[None] = proc.exited  # see processes.spawn

    async def read(self, size: int) -> bytes:
        if not self.exited.done():
            reading = asyncio.ensure_future(self.stdout.read(size))
            await asyncio.wait({reading, self.exited}, return_when=asyncio.FIRST_COMPLETED)
            _cpu_now(self.proc, self.cpu)
            if reading.done():
                return reading.result()
            reading.cancel()  # it exited first (a cancelled read takes nothing)
            with contextlib.suppress(asyncio.CancelledError):
                await reading
        # exited: what it wrote is in the pipe or in the reader's buffer, or it was all read
        return await self.stdout.read(size) if pipe_unread(self.stdout) else b""


def _cpu_now(proc: Any, cpu: list[float | None]) -> float | None:
    """The command's CPU seconds now, else (it ended and was reaped) as last read into ``cpu``."""
    now = cpu_seconds(proc.pid) if proc.returncode is None else None
    if now is not None:
        cpu[0] = now
    return cpu[0]


async def _command_reports(
    proc: Any, profile: str, cpu: list[float | None]
) -> AsyncIterator[tuple[str, Any]]:
    """A command's stdout as reports: JSON lines (generic) or the whole text (openai)."""
    stdout = _UntilExit(proc, cpu)
    if profile == "openai":
        text = bytearray()
        while len(text) <= MAX_OUTPUT_BYTES and (chunk := await stdout.read(1 << 16)):
            text += chunk  # printed in as many writes as it likes: the text is all of them
        if len(text) > MAX_OUTPUT_BYTES:
            yield "flood", f"printed more than {MAX_OUTPUT_BYTES:,} bytes"
            return
        yield "text", text.decode("utf-8", "replace").removesuffix("\n")
    else:
        total = 0
        async for line in bounded_lines(stdout, MAX_LINE_BYTES):
            if isinstance(line, LineTooLong):
                yield "broken", f"printed {line}"
                return
            total += len(line) + 1
            if total > MAX_OUTPUT_BYTES:
                yield "flood", f"printed more than {MAX_OUTPUT_BYTES:,} bytes"
                return
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as error:
                shown = short(line.decode("utf-8", "replace"))
                yield "broken", f"printed a line that is not JSON ({error}): {shown}"
                return
            yield "event", item
    await stdout.exited
    yield "exit", proc.returncode
