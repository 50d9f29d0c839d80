"""Child processes of the client suite: started in their own group, measured, and always reaped.
Every client process starts in a new session, registered here; its group is killed when its run
ends, and every registered group when the suite exits (normally, on SIGTERM or SIGINT). A group
is not a container (a daemon's double fork leaves it), so each client process also carries
``SSE_CONFORMANCE_RUN`` in its environment: when a run ends, every process carrying its mark or
descending from its leader is killed, until none is left. The CLI makes the suite a child
subreaper, so a descendant that also clears its environment comes back to it, not to init.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import itertools
import os
import re
import resource
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_MAX_MEMORY", "MARK", "MAX_MEMORY", "MEMORY_FLAGS", "bound_memory", "contain",
           "cpu_seconds", "kill_group", "memory_bound", "memory_size", "reaping_on_signals", "release",
           "size_text", "spawn", "tracked"]

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_lock = threading.Lock()
MARK = "SSE_CONFORMANCE_RUN"  # environment variable naming the run a client process belongs to
_marks: dict[int, str] = {}  # group leader pid -> the MARK its processes carry, until it is killed
_serial = itertools.count(1)
_contained = False  # this process is a child subreaper: every orphaned descendant comes back here
_PR_SET_CHILD_SUBREAPER = 36
_SWEEPS = 100  # a tree forking faster than it is killed is not chased for ever
MAX_MEMORY = "SSE_CONFORMANCE_MAX_MEMORY"  # bytes a Python worker may allocate (--max-memory)
MEMORY_FLAGS = "--max-memory, in pytest --sse-max-memory"  # what a verdict names to raise the bound
DEFAULT_MAX_MEMORY = 2 << 30  # a runaway client must not take a shared machine's memory
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def _stat_fields(path: str) -> list[bytes]:
    """The fields of a ``/proc`` stat file after the command name, from the state on ([] when
    it cannot be read). The name may hold spaces and parentheses: they follow the last ")"."""
    try:
        stat = Path(path).read_bytes()
    except OSError:
        return []
    return stat[stat.rfind(b")") + 2 :].split()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process and of the live children its main thread forked and
    theirs (an adapter may run each client in a child), ended threads included; None if unknown."""
    total, pending = 0, [pid]
    while pending:
        each = pending.pop()
        fields = _stat_fields(f"/proc/{each}/stat")
        if len(fields) < 13 and each == pid:
            return None  # gone (a child gone meanwhile counts for nothing)
        total += sum(int(field) for field in fields[11:13])
        with contextlib.suppress(OSError, ValueError):
            pending += map(int, Path(f"/proc/{each}/task/{each}/children").read_bytes().split())
    return total / _TICKS


async def spawn(
    argv: Sequence[str], *, env: dict[str, str] | None = None, stdin: bool = False, limit: int = 1 << 16
) -> Any:
    """Start ``argv`` in a new process group (pipes for stdout, stderr), tracked and marked (see
    module). Its ``exited`` future is done once it exited (``returncode`` set): asyncio's
    ``wait()`` also waits for its pipes to close, which a child it forked may keep open for ever."""
    import asyncio  # here: a worker imports this module for its memory bound, and never spawns

    class Protocol(asyncio.subprocess.SubprocessStreamProtocol):
        def process_exited(self) -> None:
            super().process_exited()
            exited.set_result(None)

    loop = asyncio.get_running_loop()
    exited: asyncio.Future[None] = loop.create_future()
    mark = f"{os.getpid()}-{next(_serial)}"
    env = {**(os.environ if env is None else env), MARK: mark}
    pipe = asyncio.subprocess.PIPE
    transport, protocol = await loop.subprocess_exec(
        lambda: Protocol(limit=limit, loop=loop), *argv, stdin=pipe if stdin else asyncio.subprocess.DEVNULL,
        stdout=pipe, stderr=pipe, env=env, start_new_session=True)
    proc = asyncio.subprocess.Process(transport, protocol, loop)
    proc.exited = exited  # type: ignore[attr-defined]
    with _lock:
        _marks[proc.pid] = mark  # its group is killed when the suite exits, unless reaped before
    return proc


def kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid``, even when its leader has already exited
    (a child it forked is still in the group), and every process that left the group: those
    carrying its mark or descending from it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with _lock:
        mark = _marks.pop(pid, None)
    if mark is not None:
        leader = _carries(pid, mark)  # not a reaped leader's pid reused by another process
        _sweep(lambda table, p: p != pid and (_carries(p, mark) or (leader and _descends(table, p, pid))))


def _table() -> dict[int, int]:
    """Every live process: pid -> parent pid (zombies left out: they are already dead)."""
    stats = {int(name): _stat_fields(f"/proc/{name}/stat") for name in os.listdir("/proc") if name.isdigit()}
    alive = {pid: stat for pid, stat in stats.items() if len(stat) > 1 and stat[0] not in (b"Z", b"X")}
    return {pid: int(stat[1]) for pid, stat in alive.items()}


def _carries(pid: int, mark: str) -> bool:
    try:
        return f"\0{MARK}={mark}\0".encode() in b"\0" + Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False


def _descends(table: dict[int, int], pid: int, ancestor: int) -> bool:
    seen = set()
    while pid in table and pid not in seen:
        seen.add(pid)
        pid = table[pid]
        if pid == ancestor:
            return True
    return False


def _sweep(doomed: Any) -> None:
    """SIGKILL every process ``doomed(table, pid)`` picks, again until none is left (a process
    forks while its tree is being killed), and reap those that were orphaned onto this one."""
    me = os.getpid()
    for _ in range(_SWEEPS):
        table = _table()
        victims = [pid for pid in table if pid != me and doomed(table, pid)]
        if not victims:
            return
        for pid in victims:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for pid in victims:
            if table[pid] == me and pid not in _marks:  # an orphan of ours nobody else waits for
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)


def release(proc: Any) -> None:
    """Close a finished child's pipes now, on the running loop: left to the garbage collector, a
    pipe not read to its end is closed after the loop, and Python prints "Event loop is closed"."""
    transport = getattr(proc, "_transport", None)  # asyncio.subprocess.Process keeps it there
    if transport is not None:
        transport.close()


def memory_size(text: str) -> int | None:
    """Bytes from ``2G``, ``2GiB``, ``512M``, ``1048576``; None when it is not a size."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text, re.I)
    if not found:
        return None
    size = int(float(found[1]) * _UNITS[found[2].lower()])
    return size if size > 0 else None


def size_text(size: int) -> str:
    """``2 GiB``, ``256 MiB``: the bound as a person gives it."""
    for unit, factor in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:g} {unit}"
    return f"{size} bytes"


_bound: int | None = None  # what bound_memory() set in this process


def memory_bound() -> int | None:
    """The bound :func:`bound_memory` put on this process (None: it did not run here)."""
    return _bound


def bound_memory() -> None:
    """In a Python worker, at its entry: cap what it may allocate at ``$SSE_CONFORMANCE_MAX_MEMORY``
    bytes (RLIMIT_DATA: heap and anonymous maps, not the address space reserved for threads),
    soft and hard alike so the client cannot lift it. A client past it gets MemoryError."""
    global _bound
    size = memory_size(os.environ.get(MAX_MEMORY, ""))
    if size is not None:
        _, hard = resource.getrlimit(resource.RLIMIT_DATA)
        size = size if hard == resource.RLIM_INFINITY else min(size, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (size, size))
    _bound = size


def contain() -> None:
    """Make this process a child subreaper (Linux), so no client descendant escapes to init."""
    global _contained
    if not _contained and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            _contained = libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def tracked() -> list[int]:
    """The process groups not reaped yet (for tests and diagnostics)."""
    with _lock:
        return sorted(_marks)


def kill_all() -> None:
    """Every client process: the groups, what left them, and (as a subreaper) every descendant."""
    for pid in tracked():
        kill_group(pid)
    if _contained:
        me = os.getpid()
        _sweep(lambda table, p: _descends(table, p, me))


atexit.register(kill_all)


@contextlib.contextmanager
def reaping_on_signals() -> Iterator[None]:
    """Inside, as a child subreaper (:func:`contain`), SIGTERM and SIGINT kill every client group,
    print one line and exit 2 (the run did not complete); the previous handlers come back after.
    Off the main thread nothing changes (``atexit`` still reaps on a normal exit)."""
    contain()

    def handler(signum: int, frame: object) -> None:
        kill_all()
        name = signal.Signals(signum).name
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"sse-conformance: interrupted by {name}; every client process was stopped\n")
            sys.stderr.flush()
        os._exit(2)

    on_main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT) if on_main}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
