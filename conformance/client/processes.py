"""Child processes of the client suite: started in their own group, measured, and always reaped.

Every client process (a command per item, a persistent adapter, a Python worker) is started
with ``start_new_session=True`` and registered here. Its whole process group is killed when its
run ends, children it forked included, and every group still registered is killed when the suite
exits: normally, on SIGTERM (what CI and ``timeout`` send) or on SIGINT.

CPU time is read from ``/proc`` so the runner can tell a client that is still working from one
that is silent: on a busy machine a slow client is not a hung one.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["cpu_seconds", "kill_group", "reaping_on_signals", "spawn", "track", "tracked"]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_live: set[int] = set()  # process group ids still to be killed
_lock = threading.Lock()


def cpu_seconds(pid: int, thread: int | None = None) -> float | None:
    """User + system CPU seconds of a process (or of one of its threads); None if unknown."""
    path = f"/proc/{pid}/task/{thread}/stat" if thread else f"/proc/{pid}/stat"
    try:
        with open(path, "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields are counted after the last ")".
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (IndexError, ValueError):
        return None


async def spawn(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    stdin: bool = False,
    pass_fds: Sequence[int] = (),
) -> Any:
    """Start ``argv`` in a new process group (pipes for stdout and stderr) and track it."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        start_new_session=True,
        limit=1 << 16,
        pass_fds=tuple(pass_fds),
    )
    track(proc.pid)
    return proc


def track(pid: int) -> None:
    """Kill the process group ``pid`` leads when the suite exits, unless reaped before (a
    worker forked by the fork server leads a group of its own too)."""
    with _lock:
        _live.add(pid)


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid``, even when its leader has already exited
    (a child it forked is still in the group)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with _lock:
        _live.discard(pid)


def tracked() -> list[int]:
    """The process groups not reaped yet (for tests and diagnostics)."""
    with _lock:
        return sorted(_live)


def kill_all() -> None:
    for pid in tracked():
        kill_group(pid)


atexit.register(kill_all)


@contextlib.contextmanager
def reaping_on_signals() -> Iterator[None]:
    """While inside, SIGTERM and SIGINT end the suite at once: every client group is killed,
    one line is printed and the exit status is 2 (the run did not complete). The previous
    handlers come back on the way out; off the main thread nothing changes (``atexit`` still
    reaps on a normal exit)."""

    def handler(signum: int, frame: object) -> None:
        kill_all()
        name = signal.Signals(signum).name
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"sse-conformance: interrupted by {name}; every client process was stopped\n")
            sys.stderr.flush()
        os._exit(2)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
