"""The legacy ``sseclient`` 0.0.27 (btubbs) behind the persistent adapter protocol:
``python THIS LIBDIR``.

It shares the module name ``sseclient`` with sseclient-py, so it lives in a private
``pip install --target`` directory put first on ``sys.path``. ``for msg in SSEClient(url)`` never
ends by itself (it reconnects after a 204 too), so only ending its process stops a run: each run
is a child forked from this process once ``requests`` is imported (0.1 s of CPU a process would
pay again for every one of the 1,581 items). This process only relays the child's lines, whole,
adding the run's CPU time to its end. Standalone on purpose: it imports nothing from this project.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
from typing import Any

VERSION_DIST, DIST_INFO = "sseclient-", ".dist-info"  # the directory that names the installed version


def _send(message: dict[str, Any], fd: int = 1) -> None:
    _write(json.dumps(message).encode() + b"\n", fd)


def _write(data: bytes, fd: int = 1) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _version(libdir: str) -> str:
    found = [n for n in os.listdir(libdir) if n.startswith(VERSION_DIST) and n.endswith(DIST_INFO)]
    return found[0][len(VERSION_DIST) : -len(DIST_INFO)] if found else ""


def _client(sseclient: Any, seq: int, url: str, out: int) -> None:
    """The child: each message as an event line, then how the iteration ended (no ``seq``: the
    parent adds it with the CPU time)."""
    try:
        for message in sseclient.SSEClient(url):
            event = {"type": message.event or "message", "data": message.data, "id": message.id or ""}
            _send({"seq": seq, "event": event}, out)
        _send({"end": "returned"}, out)
    except BaseException as error:  # the library's own failure is an observation
        _send({"end": "raised", "error": f"{type(error).__name__}: {error}"}, out)


class Run:
    """One run: its child's pid and the pipe its lines come on (a partial line kept until whole)."""

    def __init__(self, seq: int, pid: int, fd: int) -> None:
        self.seq, self.pid, self.fd = seq, pid, fd
        self.partial = bytearray()

    def relay(self) -> bool:
        """Pass on the child's complete lines; False once its pipe is closed (it has ended)."""
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            return False
        self.partial += chunk  # a line of megabytes comes in many reads: joined once, at its end
        if b"\n" not in chunk:
            return True
        lines = self.partial.split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            if line.startswith(b'{"end"'):  # the child's last word: its seq and CPU time added
                self.finish(json.loads(line))
            else:
                _write(line + b"\n")
        return True

    def finish(self, message: dict[str, Any]) -> None:
        _, _, usage = os.wait4(self.pid, 0)
        self.pid = 0
        _send({"seq": self.seq, **message, "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3)})

    def kill(self) -> None:
        """End the child (a cancel, a stop, or its end unsaid: then it was killed or crashed)."""
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0
        os.close(self.fd)


def main(libdir: str) -> None:
    sys.path.insert(0, libdir)
    import sseclient  # the legacy one, from libdir

    runs: dict[int, Run] = {}
    pending = b""
    while True:
        ready, _, _ = select.select([0, *(run.fd for run in runs.values())], [], [])
        for run in [run for run in runs.values() if run.fd in ready]:
            if not run.relay():
                died = run.pid != 0  # its pipe closed without an end (else it said its end)
                run.kill()
                if died:
                    _send({"seq": run.seq, "end": "raised", "error": "the client's process died"})
                del runs[run.seq]
        if 0 not in ready:
            continue
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        *lines, pending = (pending + chunk).split(b"\n")
        for raw in lines:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            cmd = message.get("cmd")
            if cmd == "start":
                implementation = {"name": "sseclient (legacy)", "version": _version(libdir),
                                  "language": "python", "capabilities": ["reconnect"]}
                _send({"ready": True, "protocol": 1, "implementation": implementation})
            elif cmd == "run":
                seq = int(message["seq"])
                read_end, write_end = os.pipe()
                pid = os.fork()
                if pid == 0:  # the child: the run, and nothing else
                    os.close(read_end)
                    _client(sseclient, seq, str(message["url"]), write_end)
                    os._exit(0)
                os.close(write_end)
                runs[seq] = Run(seq, pid, read_end)
            elif cmd == "cancel":
                run = runs.pop(message.get("seq"), None)
                if run is not None:
                    run.kill()
                _send({"seq": message.get("seq"), "cancelled": True, "lingering": False})
            elif cmd == "stop":
                for run in runs.values():
                    run.kill()
                return
    for run in runs.values():
        run.kill()


if __name__ == "__main__":
    main(sys.argv[1])
