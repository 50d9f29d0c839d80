"""Python workers forked from one process that has already imported them.

A worker process started from scratch spends about 0.2 s of CPU importing the interpreter's
start-up, the worker and the client under test (httpx alone is 80 ms). A run starts 16 of them
and one more for every large case (which must start from the same state each time, see
``needs_fresh_process``): a quarter of the CPU of a whole client run on a 2-core machine. The
fork server imports all that once and forks a worker per request, in the state it left
after its imports, every time.

``python -m conformance.client.forkserver FD module:callable``: FD is a UNIX socket to the suite.
The suite sends one byte with three file descriptors (the worker's stdin, stdout and stderr);
the server forks a child that leads a process group of its own (killed whole like any client
process) and serves the worker protocol on them, and answers with the child's
pid. It reports each child's exit status as the child ends. A target whose import starts a
thread cannot be forked safely: the server then says so and the suite starts workers as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import selectors
import signal
import socket
import struct
import sys
import threading
from typing import Any

from .processes import kill_group, spawn, track

__all__ = ["ForkServer", "ForkedProcess"]

RECORD = struct.Struct("=c7xqq")  # kind, pid, value
HELLO, SPAWNED, EXITED = b"h", b"s", b"e"


class ForkedProcess:
    """What the suite holds of a forked worker: the parts of ``asyncio.subprocess.Process`` the
    harness uses (pid, the three pipes, ``returncode``, ``wait()``)."""

    def __init__(self, pid: int, stdin: asyncio.StreamWriter, stdout: asyncio.StreamReader,
                 stderr: asyncio.StreamReader, exited: asyncio.Future[int]) -> None:
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self._exited = exited

    @property
    def returncode(self) -> int | None:
        return self._exited.result() if self._exited.done() else None

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)


class ForkServer:
    """The suite's side: start the server once, then :meth:`spawn` workers from it."""

    def __init__(self, spec: str, env: dict[str, str] | None = None) -> None:
        self.spec = spec
        self.env = env
        self.proc: Any = None
        self.sock: socket.socket | None = None
        self.forkable = False
        self._buffer = b""
        self._lock = asyncio.Lock()  # one request at a time: answers come back in order
        self._spawned: asyncio.Queue[int] = asyncio.Queue()
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._early: dict[int, int] = {}  # exits reported before the spawn was taken up
        self._reader: asyncio.Task[None] | None = None
        self._drains: list[asyncio.Task[None]] = []

    async def start(self) -> bool:
        """Start the server; whether it can fork workers (False: start them as processes)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        argv = [sys.executable, "-m", "conformance.client.forkserver", str(theirs.fileno()), self.spec]
        try:
            self.proc = await spawn(argv, env=self.env, pass_fds=(theirs.fileno(),))
        except OSError:
            ours.close()
            return False
        finally:
            theirs.close()
        ours.setblocking(False)
        self.sock = ours
        # what the server itself prints (an import's warning) is read and dropped, so it never
        # blocks on a full pipe; its workers have pipes of their own
        streams = (self.proc.stdout, self.proc.stderr)
        self._drains = [asyncio.ensure_future(_drop(stream)) for stream in streams]
        try:
            kind, forkable, _ = await asyncio.wait_for(self._record(), HELLO_WAIT)
        except (OSError, EOFError, asyncio.TimeoutError, TimeoutError):
            await self.stop()
            return False
        self.forkable = kind == HELLO and bool(forkable)
        if not self.forkable:
            await self.stop()
            return False
        self._reader = asyncio.ensure_future(self._read())
        return True

    async def _record(self) -> tuple[bytes, int, int]:
        assert self.sock is not None
        loop = asyncio.get_running_loop()
        while len(self._buffer) < RECORD.size:
            chunk = await loop.sock_recv(self.sock, 4096)
            if not chunk:
                raise EOFError
            self._buffer += chunk
        record, self._buffer = self._buffer[: RECORD.size], self._buffer[RECORD.size :]
        return RECORD.unpack(record)  # type: ignore[return-value]

    async def _read(self) -> None:
        try:
            while True:
                kind, pid, value = await self._record()
                if kind == SPAWNED:
                    self._spawned.put_nowait(pid)
                elif kind == EXITED:
                    future = self._exits.pop(pid, None)
                    if future is None:
                        self._early[pid] = value
                    elif not future.done():
                        future.set_result(value)
        except (OSError, EOFError):
            pass
        # the server is gone: no more exit statuses will come (its children are killed by group)
        self._spawned.put_nowait(0)
        for future in self._exits.values():
            if not future.done():
                future.set_result(-signal.SIGKILL)

    async def spawn(self) -> ForkedProcess:
        """A worker forked from the server, in a process group of its own (tracked)."""
        if self.sock is None or self._reader is None or self._reader.done():
            raise OSError("the fork server is not running")
        loop = asyncio.get_running_loop()
        pipes = [os.pipe() for _ in range(3)]  # stdin, stdout, stderr
        theirs = [pipes[0][0], pipes[1][1], pipes[2][1]]
        try:
            async with self._lock:
                socket.send_fds(self.sock, [b"f"], theirs)
                pid = await self._spawned.get()
        finally:
            for fd in theirs:
                os.close(fd)
        if not pid:
            for fd in (pipes[0][1], pipes[1][0], pipes[2][0]):
                os.close(fd)
            raise OSError("the fork server exited")
        track(pid)
        exited: asyncio.Future[int] = loop.create_future()
        if pid in self._early:
            exited.set_result(self._early.pop(pid))
        else:
            self._exits[pid] = exited
        stdout = await _reader_of(pipes[1][0])
        stderr = await _reader_of(pipes[2][0])
        transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, os.fdopen(pipes[0][1], "wb", buffering=0)
        )
        stdin = asyncio.StreamWriter(transport, protocol, None, loop)
        exited.add_done_callback(lambda _: transport.close())  # the pipes that read close at EOF
        return ForkedProcess(pid, stdin, stdout, stderr, exited)

    async def stop(self) -> None:
        """End the server (its workers are stopped by their harnesses, or by group at exit)."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None:
            with contextlib.suppress(asyncio.TimeoutError, TimeoutError, ProcessLookupError):
                await asyncio.wait_for(self.proc.wait(), 2.0)
            kill_group(self.proc.pid)
            self.proc = None
        for task in (self._reader, *self._drains):
            if task is not None:
                task.cancel()
        self._reader, self._drains = None, []


HELLO_WAIT = 120.0  # importing a client's SDK on a loaded machine can take a while


async def _drop(stream: asyncio.StreamReader) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while await stream.read(1 << 16):
            pass


async def _reader_of(fd: int) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 16, loop=loop)
    pipe = os.fdopen(fd, "rb", buffering=0)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    return reader


# -- the server's side ---------------------------------------------------------------------------


def _send(sock: socket.socket, kind: bytes, pid: int, value: int = 0) -> None:
    sock.sendall(RECORD.pack(kind, pid, value))


def _child(fds: list[int], inherited: set[int], spec: str) -> None:
    """In the forked child: become a worker on the three descriptors; never returns."""
    try:
        os.setpgid(0, 0)  # the server's session has no terminal: a group of its own is enough
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in ({*fds} | inherited) - {0, 1, 2}:
            with contextlib.suppress(OSError):
                os.close(fd)
        from .worker import main as worker_main

        code = worker_main([spec])
    except BaseException:  # a child must never return into the server's loop
        code = 70
    os._exit(code)


def _reap(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(sock, EXITED, pid, os.waitstatus_to_exitcode(status))


def serve(sock: socket.socket, spec: str) -> int:
    with contextlib.suppress(BaseException):  # a target that fails to import fails in the worker
        from .worker import resolve

        resolve(spec)
    sys.stderr.flush()
    forkable = threading.active_count() == 1 and hasattr(os, "fork")
    _send(sock, HELLO, int(forkable))
    if not forkable:
        return 0
    wakeup_r, wakeup_w = os.pipe()
    os.set_blocking(wakeup_w, False)
    signal.set_wakeup_fd(wakeup_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    selector.register(wakeup_r, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj == wakeup_r:
                os.read(wakeup_r, 4096)
                _reap(sock)
                continue
            message, fds, _, _ = socket.recv_fds(sock, 16, 3)
            if not message:
                return 0  # the suite is gone
            if len(fds) != 3:
                for fd in fds:
                    os.close(fd)
                _send(sock, SPAWNED, 0)
                continue
            pid = os.fork()
            if pid == 0:
                _child(fds, {sock.fileno(), wakeup_r, wakeup_w}, spec)
            with contextlib.suppress(OSError):  # here too, so the group exists before the pid is
                os.setpgid(pid, pid)  # told: a kill of it must never miss a child not yet there
            for fd in fds:
                os.close(fd)
            _send(sock, SPAWNED, pid)
        _reap(sock)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: python -m conformance.client.forkserver FD module:callable\n")
        return 2
    if "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    sock = socket.socket(fileno=int(argv[0]))
    with contextlib.suppress(BrokenPipeError, ConnectionError):
        return serve(sock, argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
