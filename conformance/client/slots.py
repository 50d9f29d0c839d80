"""What the case server knows of each case it serves: its script, the requests it got
(``RecordedRequest``) and the runner's signals (``Slot``). Data only, and the kernel's count of
what the client read on a request's connection."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..cases.chunkings import Chunking
from ..cases.model import Case
from .delivery import PeerCount, written_by

__all__ = ["BODY_KEPT", "KEEP_LAST", "PREFIX", "RecordedRequest", "Slot"]

PREFIX = "/cases"
KEEP_LAST = 16  # requests kept per URL past the case's scripted connections
BODY_KEPT = 16 * 1024  # bytes of each request body kept (cases send a few dozen)


@dataclass
class RecordedRequest:
    """One request as the server saw it; ``ended`` is when its response finished."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: str
    received: float
    sent: float | None = None  # everything scripted was written (a held-open body stays open)
    ended: float | None = None
    body_length: int | None = None  # bytes the client sent (``body`` keeps BODY_KEPT of them)
    number: int = 0  # 1 for the first request to this URL, counting dropped ones too
    sock: socket.socket | None = field(default=None, repr=False, compare=False)  # its connection
    # the client's run-queue wait so far (seconds, schedstat) when this request came and when its
    # response ended, where its threads can be seen: load's share of a reconnect gap
    starved_at_received: float | None = None
    starved_at_ended: float | None = None
    stamped_late: float = 0.0  # seconds from the request's arrival to its stamp (findings.starved_in_gap_ms)

    def read_by_client(self) -> bool:
        """Has the client read every byte written on this connection (the kernel's counts)? Yes
        once it is gone; no where an open one's counts cannot be had (not shown to be waiting)."""
        if self.sock is None or self.sock.fileno() < 0:
            return True
        try:
            self.sock.getpeername()
        except OSError:
            return True  # closed: nothing more will be read from it
        return PeerCount(self.sock).read_all(written_by(self.sock)) is True

    def header(self, name: str) -> str | None:
        """The first value of a header, names compared case-insensitively."""
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)

    def to_json(self) -> dict[str, Any]:
        truncated = self.body_length is not None and self.body_length > BODY_KEPT
        return {"number": self.number, "method": self.method, "path": self.path,
                "headers": self.headers, "body": self.body, "body_length": self.body_length,
                "truncated": truncated}


@dataclass
class Slot:
    """One case x chunking: its script, its request log, and the runner's release signal."""

    case: Case
    chunking: Chunking
    requests: list[RecordedRequest] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    listeners: list[Callable[[], None]] = field(default_factory=list)
    late: int = 0  # requests after the runner released the slot
    total: int = 0  # requests received before release, kept or not
    read_at: float = 0.0  # when the client last read a chunk (monotonic): it is alive, reading
    answer_lag: float = 0.0  # seconds its requests waited in the kernel for the case server's loop
    arriving: int = 0  # requests in the handler not yet recorded (their body still coming)
    client: int | None = None  # the root PID of the client process running this case, once known
    attempt: int = 0  # a run of the case again has a URL of its own (``runner.ClientRun.attempt``)

    def record(self, request: RecordedRequest) -> int:
        """Keep ``request`` (dropping the oldest unscripted one past the bound); return its index
        among all requests to this URL, which picks the connection that answers it."""
        index = self.total
        self.total += 1
        request.number = self.total
        head = len(self.case.connections) + 1  # the scripted requests and the first 204
        if len(self.requests) >= head + KEEP_LAST:
            del self.requests[head]
        self.requests.append(request)
        return index

    def notify(self) -> None:
        """A request arrived or a response ended: tell whoever watches this slot."""
        for listener in list(self.listeners):
            listener()

    @property
    def answered_204(self) -> bool:
        """A request past the listed connections came and was answered."""
        return any(r.ended is not None for r in self.requests[len(self.case.connections) :])

    @property
    def path(self) -> str:
        again = f"~{self.attempt}" if self.attempt else ""
        return f"{PREFIX}/{self.case.id}/{self.chunking.name}{again}"
