"""Silence as a state: is a client process waiting, or only quiet? A client that read every byte
and reports nothing more is *waiting* only if every thread of its tree sleeps at one instant with
no timer due (a starved client is runnable, a timer is work to come). Linux's ``/proc`` tells
which without a window of time (docs/timing.md, checks 1 and 2); the parsing is pure and tested.
"""

from __future__ import annotations

import contextlib
import os
import platform
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

__all__ = ["ASLEEP", "Look", "ProcessTree", "Sleep", "parse_stat_state", "parse_syscall", "timeout_of"]

ASLEEP = frozenset("S")  # interruptible sleep: in a system call, waiting for something outside
NO_TIMER = float("inf")
SHORT_TIMER = 1.0  # a timer due this soon is the client still at work, even past the deadline (a
# retry loop's sleep, the GIL's 5 ms hand-over): only a longer one can leave it waiting

# How each blocking system call carries its timeout, per machine architecture: ("ms", arg) an int
# of milliseconds (-1: none); ("rel", arg) a pointer to a relative timespec (NULL: none); ("timeval",
# arg) a relative struct timeval; "futex" and "clock_nanosleep" look at their flags (relative or
# absolute). A call not listed blocks with no timer of its own (read, recvfrom, accept, wait4...).
_X86_64 = {
    7: ("ms", 2),  # poll
    23: ("timeval", 4),  # select
    35: ("rel", 0),  # nanosleep
    202: ("futex", 3),
    219: ("unknown", 0),  # restart_syscall: an interrupted sleep resumed, its time not shown
    230: ("clock_nanosleep", 2),
    232: ("ms", 3),  # epoll_wait
    270: ("rel", 4),  # pselect6
    271: ("rel", 2),  # ppoll
    281: ("ms", 3),  # epoll_pwait
    441: ("rel", 3),  # epoll_pwait2
}
_GENERIC = {  # aarch64 and the other architectures of the generic table
    22: ("ms", 3),  # epoll_pwait
    72: ("rel", 4),  # pselect6
    73: ("rel", 2),  # ppoll
    98: ("futex", 3),
    101: ("rel", 0),  # nanosleep
    115: ("clock_nanosleep", 2),
    128: ("unknown", 0),  # restart_syscall
    441: ("rel", 3),  # epoll_pwait2
}
SYSCALL_TIMEOUTS = _X86_64 if platform.machine() in ("x86_64", "AMD64") else _GENERIC

FUTEX_CMD = 0x7F  # op & this: the command without the PRIVATE / CLOCK_REALTIME flags
# The commands whose timeout is an absolute time (futex(2), linux/futex.h): WAIT_BITSET (9),
# WAIT_REQUEUE_PI (11), LOCK_PI (6) and LOCK_PI2 (13); FUTEX_WAIT's (0) is relative. The wake and
# requeue commands never sleep (their fourth argument is a count, not a timeout).
FUTEX_ABSOLUTE = frozenset({6, 9, 11, 13})
FUTEX_ALWAYS_REALTIME = frozenset({6})  # LOCK_PI measures against CLOCK_REALTIME, whatever the flag
FUTEX_CLOCK_REALTIME = 256
TIMER_ABSTIME = 1
_TIMESPEC = struct.Struct("=qq")


def parse_stat_state(stat: bytes) -> str:
    """The state letter of a ``/proc/.../stat`` line (after the command name: it may hold ")")."""
    rest = stat[stat.rfind(b")") + 2 :]
    return rest[:1].decode("ascii", "replace")


def parse_syscall(text: str) -> tuple[int, tuple[int, ...]] | None:
    """``/proc/.../syscall``: the call's number and six arguments; None when not in a system call."""
    parts = text.split()
    if not parts or parts[0] in ("running", "-1") or len(parts) < 7:
        return None
    try:
        return int(parts[0]), tuple(int(arg, 16) for arg in parts[1:7])
    except ValueError:
        return None


def timeout_of(number: int, args: tuple[int, ...], read: Callable[[int, int], bytes | None], monotonic: float,
               realtime: float, table: dict[int, tuple[str, int]] | None = None) -> float:
    """Seconds until the sleeping call times out at the latest (``NO_TIMER``: never; a relative
    timeout counts from when the call began, at most now). ``read(address, size)`` reads the
    process's memory (None: unreadable, taken as "soon")."""
    kind, index = (table or SYSCALL_TIMEOUTS).get(number, ("none", 0))
    if kind == "none":
        return NO_TIMER
    if kind == "unknown":
        return 0.0
    arg = args[index]
    if kind == "ms":
        signed = arg - (1 << 64) if arg >= 1 << 63 else arg
        signed = signed - (1 << 32) if signed >= 1 << 31 else signed  # an int, as the kernel reads it
        return NO_TIMER if signed < 0 else signed / 1000
    absolute, clock = False, monotonic
    if kind == "futex":
        op = args[1]
        absolute = (op & FUTEX_CMD) in FUTEX_ABSOLUTE
        realtime_clock = op & FUTEX_CLOCK_REALTIME or (op & FUTEX_CMD) in FUTEX_ALWAYS_REALTIME
        clock = realtime if realtime_clock else monotonic
    elif kind == "clock_nanosleep":
        absolute = bool(args[1] & TIMER_ABSTIME)
        clock = realtime if args[0] == 0 else monotonic  # CLOCK_REALTIME is 0
    if arg == 0:
        return NO_TIMER  # a NULL pointer: no timeout
    raw = read(arg, _TIMESPEC.size)
    if raw is None or len(raw) < _TIMESPEC.size:
        return 0.0
    seconds, fraction = _TIMESPEC.unpack(raw)
    value = seconds + fraction / (1e6 if kind == "timeval" else 1e9)
    return max(0.0, value - clock) if absolute else max(0.0, value)


@dataclass(frozen=True)
class Sleep:
    """One look at a process tree: every thread asleep, and the soonest timer among them."""

    counts: tuple[tuple[int, int], ...]  # (thread id, times scheduled), in order
    timer: float  # seconds until the soonest timeout at the latest (NO_TIMER: none)


class ProcessTree:
    """The threads of a client: a process and its descendants, or named threads of this one."""

    def __init__(self, pid: int, threads: Iterable[int] | None = None) -> None:
        self.pid = pid
        self.only = None if threads is None else tuple(threads)
        # /proc files kept open per thread (until it is gone) and read again from offset 0,
        # which the kernel writes afresh: opening them was most of a look's cost
        self._files: dict[tuple[int, int], dict[str, int]] = {}

    def read(self, pid: int, tid: int, name: str) -> bytes:
        """One file of ``/proc/PID/task/TID`` as it is now (OSError: the thread is gone)."""
        files = self._files.setdefault((pid, tid), {})
        fd = files.get(name)
        if fd is None:
            fd = files[name] = os.open(f"/proc/{pid}/task/{tid}/{name}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            return os.pread(fd, 4096, 0)
        except OSError:
            self._forget((pid, tid))
            raise

    def _forget(self, thread: tuple[int, int]) -> None:
        for fd in self._files.pop(thread, {}).values():
            os.close(fd)

    def close(self) -> None:
        """Close the files kept open."""
        for thread in list(self._files):
            self._forget(thread)

    def threads(self) -> list[tuple[int, int]]:
        """(pid, tid) of every thread, the root's and each descendant's."""
        if self.only is not None:
            return [(self.pid, tid) for tid in self.only]
        out: list[tuple[int, int]] = []
        pending, seen = [self.pid], set()
        while pending:
            pid = pending.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
            except (OSError, ValueError):
                continue
            for tid in tids:
                out.append((pid, tid))
                with contextlib.suppress(OSError, ValueError):
                    pending += [int(child) for child in self.read(pid, tid, "children").split()]
        for gone in self._files.keys() - set(out):
            self._forget(gone)
        return out

    def sockets(self) -> frozenset[int]:
        """The inodes of the sockets the tree's processes hold open."""
        found: set[int] = set()
        for pid in {pid for pid, _ in self.threads()}:
            try:
                names = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for name in names:
                with contextlib.suppress(OSError):  # closed meanwhile
                    link = os.readlink(f"/proc/{pid}/fd/{name}")
                    if link.startswith("socket:["):
                        found.add(int(link[8:-1]))
        return frozenset(found)

    def starved(self) -> float:
        """Seconds its threads have spent runnable but waiting for a CPU (``schedstat``'s second
        field, summed): time a busy machine took from it. Threads that ended are not counted."""
        total = 0
        for pid, tid in self.threads():
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int(self.read(pid, tid, "schedstat").split()[1])
        return total / 1e9

    def look(self) -> Sleep | None:
        """The tree if every thread is asleep now, else None (one running, or gone: its end is a
        fact its target reports, a command's exit, not a wait)."""
        threads = self.threads()
        if not threads:
            return None
        counts: list[tuple[int, int]] = []
        soonest = NO_TIMER
        monotonic, realtime = time.clock_gettime(time.CLOCK_MONOTONIC), time.time()
        memories: dict[int, int] = {}
        try:
            for pid, tid in threads:
                if parse_stat_state(self.read(pid, tid, "stat")) not in ASLEEP:
                    return None
                counts.append((tid, int(self.read(pid, tid, "schedstat").split()[2])))
                call = parse_syscall(self.read(pid, tid, "syscall").decode("ascii", "replace"))
                if call is None:
                    return None  # asleep outside a system call (a page fault): not waiting
                timer = timeout_of(*call, partial(_read_memory, memories, pid), monotonic, realtime)
                # a futex wait with no timeout waits for another thread (a lock, the GIL), which a
                # tree of named threads leaves out and which may be running: not known to wait
                futex = SYSCALL_TIMEOUTS.get(call[0], ("none", 0))[0] == "futex"
                if self.only is not None and timer == NO_TIMER and futex:
                    return None
                soonest = min(soonest, timer)
        except (OSError, ValueError, IndexError):
            return None
        finally:
            for fd in memories.values():
                os.close(fd)
        return Sleep(tuple(counts), soonest)


def _read_memory(memories: dict[int, int], pid: int, address: int, size: int) -> bytes | None:
    try:
        if pid not in memories:
            memories[pid] = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
        return os.pread(memories[pid], size, address)
    except OSError:
        return None


@dataclass(frozen=True)
class Look:
    """The answer of :func:`asleep_twice`: waiting (no thread ran between two looks), and the
    time at which its soonest timer fires at the latest (``NO_TIMER`` for none)."""

    waiting: bool
    timer_at: float = NO_TIMER  # monotonic


def asleep_twice(tree: ProcessTree) -> Look:
    """Every thread asleep at two looks, none scheduled between: all slept at one instant."""
    first = tree.look()
    if first is None:
        return Look(False)
    second = tree.look()
    if second is None or second.counts != first.counts:
        return Look(False)
    return Look(True, time.monotonic() + min(first.timer, second.timer))
