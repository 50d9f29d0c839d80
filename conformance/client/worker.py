"""``python -m conformance.client.worker module:callable``: a Python client behind the adapter
protocol, in a process of its own so a client that burns CPU or holds the GIL starves no case
server. Each run is a thread (an async client gets its own loop in it), announced by id so the
suite can tell busy from silent; what the client prints goes to stderr (stdout is the protocol).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any, NoReturn

from ..errors import describe_error
from ..imports import import_spec
from .drive import Drive, Stop
from .observation import Invocation, failure, normalise
from .processes import bound_memory

LINGER = 1.0  # how long a cancelled run may take to let go before it counts as lingering


class Channel:
    """The protocol's stdout: one JSON object per line, written whole under a lock."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        try:
            line = json.dumps(message, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: escaped, it survives the trip
            line = json.dumps(message).encode("ascii")
        with self.lock:
            self.stream.write(line + b"\n")
            self.stream.flush()


class Run:
    """One invocation of the callable, in its own thread."""

    def __init__(self, func: Callable[..., Any], channel: Channel, message: dict[str, Any]) -> None:
        self.channel = channel
        self.seq = int(message["seq"])
        self.profile = message.get("profile", "generic")
        invocation = Invocation.from_inputs(str(message["url"]), message.get("inputs") or {})
        self.close_now = invocation.close_now  # set by the suite's close command
        self.drive = Drive(func, invocation, self.profile, self.report)
        self.thread = threading.Thread(target=self.work, name=f"sse-run-{self.seq}", daemon=True)

    def send(self, **fields: Any) -> None:
        if self.drive.cancelled.is_set():
            raise Stop
        self.channel.send({"seq": self.seq, **fields})

    def work(self) -> None:
        try:
            self.send(thread=threading.get_native_id())
            self.drive.run()
            self.send(end="returned", cpu_seconds=round(time.thread_time(), 3))
        except Stop:
            return
        except BaseException as error:  # the client's own failure is an observation
            if not self.drive.cancelled.is_set():
                self.finish(*failure(error, self.profile))

    def finish(self, end: str, error: str) -> None:
        with contextlib.suppress(Stop):
            self.send(end=end, error=error, cpu_seconds=round(time.thread_time(), 3))

    def report(self, kind: str, value: Any) -> None:
        """Send one report; a value that cannot be one ends this run as broken (others go on)."""
        try:
            if kind == "text" and not isinstance(value, str):
                raise TypeError(f"the openai profile returns str, got {type(value).__name__}")
            fields = {"text": value} if kind == "text" else normalise(value)
        except Exception as error:  # no report (a hostile object, a text not str): this run alone ends
            self.finish("broken", str(error) if isinstance(error, TypeError) else describe_error(error))
            raise Stop from None
        self.send(**fields)


def implementation(spec: str, func: Any) -> dict[str, Any]:
    top = spec.partition(":")[0].split(".")[0]
    version = getattr(sys.modules.get(top), "__version__", "")
    capabilities = sorted(getattr(func, "capabilities", ()) or ())
    return {"name": spec, "version": str(version), "language": "python", "capabilities": capabilities}


def serve(spec: str, commands: IO[bytes], channel: Channel) -> None:
    func: Callable[..., Any] | None = None
    runs: dict[int, Run] = {}
    for raw in commands:
        try:
            message = json.loads(raw)
        except ValueError:
            continue
        cmd = message.get("cmd") if isinstance(message, dict) else None
        if cmd == "start":
            try:
                func = import_spec(spec)
            except BaseException as error:  # reported to the suite, which prints one line
                channel.send({"ready": False, "error": f"cannot load {spec!r}: {describe_error(error)}"})
                return
            channel.send({"ready": True, "protocol": 1, "implementation": implementation(spec, func)})
        elif cmd == "run" and func is not None:
            run = runs[int(message["seq"])] = Run(func, channel, message)
            run.thread.start()
        elif cmd == "close" and message.get("seq") in runs:
            runs[message["seq"]].close_now.set()
        elif cmd == "cancel" and message.get("seq") in runs:
            run = runs.pop(message["seq"])
            run.drive.cancel()
            threading.Thread(target=_answer_cancel, args=(run, channel), daemon=True).start()
        elif cmd == "stop":
            return
        runs = {seq: run for seq, run in runs.items() if run.thread.is_alive()}


def _answer_cancel(run: Run, channel: Channel) -> None:
    run.thread.join(LINGER)
    channel.send({"seq": run.seq, "cancelled": True, "lingering": run.thread.is_alive()})


def client_process() -> IO[bytes]:
    """Start-up of a worker or a lane: its memory bound, the caller's directory importable, and the
    suite's channel (the real stdout) returned; what a client prints goes to stderr instead."""
    bound_memory()
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    return channel


def leave() -> NoReturn:
    """The end of such a process: no thread a client left running (even non-daemon) keeps it."""
    sys.stderr.flush()
    os._exit(0)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m conformance.client.worker module:callable\n")
        return 2
    serve(argv[0], sys.stdin.buffer, Channel(client_process()))
    leave()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
