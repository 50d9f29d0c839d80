"""Alone, machine-wide: attempts share the machine, a confirmation has it to itself.

Two layers. :class:`AloneGate` (one per event loop, shared by every ClientRun on it) keeps the
items of one loop apart: an attempt holds it shared, a confirmation exclusively, and waiting
confirmations go first. :class:`MachineLock` extends that to every suite process of this user
(report shards, the stability script, a pytest run beside them) with ``flock`` on two files:

- ``alone.lock``: held shared while any attempt of the loop runs (one descriptor per loop,
  taken by its first running attempt, dropped by its last) and exclusively for a confirmation;
- ``alone.lock.turn``: held exclusively by a loop that waits for (or holds) the machine alone.
  A loop takes ``alone.lock`` shared only through the turn, and a loop already holding it
  admits no new attempt while another holds the turn; its running attempts end, it drops the
  lock, and the confirmation runs. ``flock`` is not fair; without the turn a loop that always
  has an attempt running (a process with no confirmation of its own) would starve it.

No loop waits for ``alone.lock`` exclusively while holding it shared: a confirmation first
waits for its own loop's attempts to end, and the loop's descriptor is closed with its last
attempt. Both locks are taken by polling (``LOCK_NB``, a short backoff), never in a thread, so a
cancelled wait holds nothing; a descriptor is open only while its lock is held and is unlocked
and closed on release, and a process that dies (SIGKILL included) releases both with its
descriptors.

``$SSE_CONFORMANCE_ALONE_LOCK`` names the lock file (its turn is beside it); ``off`` keeps
"alone" within the process. The default is ``alone.lock`` in a private ``sse-conformance-UID``
folder under ``$XDG_RUNTIME_DIR`` or the temp dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
import tempfile
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # no flock here: alone within the process
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_ENV", "AloneGate", "MachineLock", "alone_gate", "machine_lock"]

LOCK_ENV = "SSE_CONFORMANCE_ALONE_LOCK"
POLL_FIRST = 0.002  # seconds between tries for a busy lock, doubling ...
POLL_MOST = 0.05  # ... up to this


class MachineLock:
    """``flock`` on ``path`` (shared or exclusive) and on its turn, ``path.turn`` (see the module).

    One instance per loop: flock locks belong to open file descriptions, so two instances
    exclude each other like two processes do, in one process too."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.turn_path = self.path.with_name(self.path.name + ".turn")
        self._held: list[int] = []  # descriptors open now, each holding its lock

    def _open(self, path: Path) -> int:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)

    def check(self) -> None:
        """Open both files once (creating them); an OSError says the lock cannot work here."""
        for path in (self.path, self.turn_path):
            os.close(self._open(path))

    @property
    def held(self) -> bool:
        return bool(self._held)

    def wanted_elsewhere(self) -> bool:
        """Does another loop (of any process) wait for the machine alone, or have it?"""
        fd = self._open(self.turn_path)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops the probe's own lock
        return False

    async def _take(self, path: Path, operation: int) -> int:
        """A descriptor of ``path`` holding ``operation`` (LOCK_SH/LOCK_EX), tried until it holds;
        cancelled or failed, the descriptor is closed and nothing is held."""
        fd = self._open(path)
        delay = POLL_FIRST
        try:
            while True:
                try:
                    fcntl.flock(fd, operation | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, POLL_MOST)
        except BaseException:
            os.close(fd)
            raise

    async def take_shared(self) -> None:
        """Hold the lock shared; waits while any loop holds the turn."""
        turn = await self._take(self.turn_path, fcntl.LOCK_SH)
        try:
            self._held.append(await self._take(self.path, fcntl.LOCK_SH))
        finally:
            _drop(turn)

    async def take_exclusive(self) -> None:
        """Take the turn, then the lock exclusively once every shared holder has let go."""
        turn = await self._take(self.turn_path, fcntl.LOCK_EX)
        try:
            main = await self._take(self.path, fcntl.LOCK_EX)
        except BaseException:
            _drop(turn)
            raise
        self._held += [turn, main]  # released last first: the lock, then the turn

    def release(self) -> None:
        """Drop whatever this instance holds."""
        while self._held:
            _drop(self._held.pop())


def _drop(fd: int) -> None:
    """Unlock, then close: unlocking frees the lock even if a child forked meanwhile (a target
    running in a thread) has a copy of the descriptor."""
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


_told: set[str] = set()


def _private_folder(folder: Path) -> None:
    folder.mkdir(mode=0o700, exist_ok=True)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise PermissionError(f"{folder} is not a private folder of this user")


def machine_lock() -> MachineLock | None:
    """A new lock on this user's lock file (``$SSE_CONFORMANCE_ALONE_LOCK``, see the module),
    or None when "alone" holds within the process only (``off``, no flock, or a file that
    cannot be opened: said once on stderr)."""
    setting = os.environ.get(LOCK_ENV, "")
    if fcntl is None or setting == "off":
        return None
    runtime = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    folder = Path(runtime) / f"sse-conformance-{os.getuid()}"
    path = Path(setting) if setting else folder / "alone.lock"
    try:
        if not setting:
            _private_folder(folder)
        lock = MachineLock(path)
        lock.check()
    except OSError as error:
        if str(path) not in _told:
            _told.add(str(path))
            print(f"sse-conformance: alone within this process only: {path}: {error}", file=sys.stderr)
        return None
    return lock


class AloneGate:
    """Runs share the machine; a confirmation has it to itself.

    One gate per event loop, shared by every ClientRun on it (the report runs several clients
    at once): an attempt holds it shared, a confirmation exclusively, so "run again alone" means
    no other item of any run is running, in this process or (with a :class:`MachineLock`) in
    any other suite process of this user. Waiting confirmations go first."""

    def __init__(self, lock: MachineLock | None = None) -> None:
        self.lock = lock
        self.running = 0
        self.alone = False
        self.waiting = 0
        self.entering = False  # an attempt is taking the machine lock shared for this loop
        self.passes = 0  # runs of this loop still in their first pass (see first_pass)
        self._changed = asyncio.Event()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _until(self, ready: Callable[[], bool]) -> None:
        while not ready():
            await self._changed.wait()

    @contextlib.asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        while True:
            await self._until(lambda: not self.alone and not self.waiting and not self.entering)
            if self.lock is None:
                break
            if self.running:
                if not self.lock.wanted_elsewhere():
                    break
                # Another loop waits to be alone: admit nothing until this loop's attempts have
                # ended (the last one drops the lock), then queue behind it for the lock again.
                await self._until(lambda: not self.running)
                continue
            self.entering = True
            try:
                await self.lock.take_shared()
            finally:
                self.entering = False
                self._notify()
            break
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            if not self.running and self.lock is not None:
                self.lock.release()
            self._notify()

    @contextlib.contextmanager
    def first_pass(self) -> Iterator[None]:
        """A run's first pass over its items: a batch of confirmations that asks to wait for
        it (``exclusive(after_first_passes=True)``) lets it go on at full speed meanwhile."""
        self.passes += 1
        try:
            yield
        finally:
            self.passes -= 1
            self._notify()

    @contextlib.asynccontextmanager
    async def exclusive(self, *, after_first_passes: bool = False) -> AsyncIterator[None]:
        """The loop (and the machine) alone. ``after_first_passes``: first wait, holding and
        blocking nothing, until every run of the loop has finished its first pass. Runs side
        by side (the selftest's four clients, the report's rows) then confirm one after another
        once all attempts are over, instead of each emptying the machine of the others'
        attempts (a drain that idles the CPUs for the longest attempt in flight) mid-run."""
        if after_first_passes:
            await self._until(lambda: not self.passes)
        self.waiting += 1
        try:
            await self._until(lambda: not self.running and not self.alone and not self.entering)
        finally:
            self.waiting -= 1
            self._notify()
        self.alone = True
        try:
            if self.lock is not None:
                await self.lock.take_exclusive()
            yield
        finally:
            if self.lock is not None:
                self.lock.release()
            self.alone = False
            self._notify()


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AloneGate] = weakref.WeakKeyDictionary()


def alone_gate() -> AloneGate:
    """The gate of the running event loop (with this user's machine lock, see :func:`machine_lock`)."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = AloneGate(machine_lock())
    return gate
