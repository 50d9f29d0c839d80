"""Typed, frozen view of one client case file (the JSON format is the contract; this mirrors it).

A runner in Python reads :class:`Case` objects instead of raw JSON so that defaults (status 200,
``Content-Type: text/event-stream``, event type "message", empty id) are applied in one place.
Byte steps (``text``/``hex``, optionally ``repeat``) are turned into bytes here, so a 5 MiB
event costs a few bytes of JSON.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.sse import Event, EventParser

RETRY_NAME = re.compile(rb"retry(?=[:\r\n]|\Z)")  # the field name, at a line's start or not

__all__ = [
    "DEFAULT_HEADERS",
    "Abort",
    "Action",
    "Case",
    "ClientOptions",
    "Close",
    "Connection",
    "Divergence",
    "Expect",
    "ExpectRequest",
    "HoldOpen",
    "Send",
    "Sleep",
    "Step",
    "case_from_json",
    "text_value",
]

DEFAULT_HEADERS: Mapping[str, str] = {"Content-Type": "text/event-stream"}


# -- stream steps -------------------------------------------------------------------------
@dataclass(frozen=True)
class Send:
    """Bytes to write. Consecutive Sends form one byte run, which a chunking may re-split."""

    data: bytes


@dataclass(frozen=True)
class Sleep:
    """Pause before the next step (an action: never merged into a chunk)."""

    ms: int


@dataclass(frozen=True)
class Close:
    """End the body cleanly (terminating chunk), then close the connection."""


@dataclass(frozen=True)
class Abort:
    """Break the connection mid-body: reset the socket without the terminating chunk."""


@dataclass(frozen=True)
class HoldOpen:
    """Send nothing more and keep the connection open until the client leaves or time runs out."""


Action = Sleep | Close | Abort | HoldOpen
Step = Send | Action


def text_value(value: str | Mapping[str, Any] | list[Any]) -> str:
    """A case string: plain, ``{"text": "x", "repeat": N}`` for a long generated value, or a
    list of those joined (two long lines and the LF between them)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(text_value(part) for part in value)
    return value["text"] * value.get("repeat", 1)


def _step_bytes(raw: Mapping[str, Any]) -> bytes:
    unit = raw["text"].encode("utf-8") if "text" in raw else bytes.fromhex(raw["hex"])
    return unit * raw.get("repeat", 1)


_ACTIONS: Mapping[str, Any] = {
    "sleep_ms": lambda raw: Sleep(int(raw["sleep_ms"])),
    "close": lambda raw: Close(),
    "abort": lambda raw: Abort(),
    "hold_open": lambda raw: HoldOpen(),
}


def _step(raw: Mapping[str, Any]) -> Step:
    if "text" in raw or "hex" in raw:
        return Send(_step_bytes(raw))
    for key, make in _ACTIONS.items():
        if key in raw:
            return make(raw)
    raise ValueError(f"unknown stream step: {raw!r}")


# -- connections ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExpectRequest:
    """What one request must carry. Header names compare case-insensitively, values exactly."""

    method: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    absent_headers: tuple[str, ...] = ()
    body: str | None = None
    path_suffix: str | None = None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> ExpectRequest | None:
        if raw is None:
            return None
        return cls(
            method=raw.get("method"),
            headers=dict(raw.get("headers", {})),
            absent_headers=tuple(raw.get("absent_headers", ())),
            body=raw.get("body"),
            path_suffix=raw.get("path_suffix"),
        )


@dataclass(frozen=True)
class Connection:
    """The response to one request, in request order. ``no_response``: drop before any status."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_HEADERS))
    stream: tuple[Step, ...] = ()
    expect_request: ExpectRequest | None = None
    no_response: bool = False

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Connection:
        return cls(
            status=raw.get("status", 200),
            headers=dict(raw.get("headers", DEFAULT_HEADERS)),
            stream=tuple(_step(step) for step in raw.get("stream", ())),
            expect_request=ExpectRequest.from_json(raw.get("expect_request")),
            no_response=raw.get("no_response", False),
        )

    def runs(self) -> list[bytes | Action]:
        """The stream with consecutive Sends joined: byte runs and actions, in order."""
        return list(self._runs)

    @functools.cached_property
    def _runs(self) -> tuple[bytes | Action, ...]:
        # joined once: the case server plans every request from it, and a body can be 14 MB
        out: list[list[bytes] | Action] = []
        for step in self.stream:
            if isinstance(step, Send):
                if out and isinstance(out[-1], list):
                    out[-1].append(step.data)
                else:
                    out.append([step.data])
            else:
                out.append(step)
        return tuple(b"".join(run) if isinstance(run, list) else run for run in out)

    def byte_runs(self) -> list[bytes]:
        """Only the byte runs (what chunkings split)."""
        return [run for run in self.runs() if isinstance(run, bytes)]

    def body_bytes(self) -> bytes:
        """Every byte this connection's body carries, actions ignored."""
        return b"".join(self.byte_runs())

    @functools.cached_property
    def body_length(self) -> int:
        """How many body bytes this connection sends (the runner sizes bounds by it)."""
        return sum(len(step.data) for step in self.stream if isinstance(step, Send))

    @functools.cached_property
    def longest_line(self) -> int:
        """The bytes of its body's longest line, between any line endings (cached: splitting
        megabytes is not free, and the runner asks for every large item of every run)."""
        one_ending = self.body_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return max(map(len, one_ending.split(b"\n")))

    @functools.cached_property
    def sets_retry(self) -> bool:
        """Does the body carry a ``retry`` field, valid or not? Then a client that reconnects
        waits what it parsed there before coming back (cached: the runner asks per attempt)."""
        body = self.body_bytes()
        return any(m.start() == 0 or body[m.start() - 1] in b"\r\n" for m in RETRY_NAME.finditer(body))

    @property
    def ends_held_open(self) -> bool:
        return bool(self.stream) and isinstance(self.stream[-1], HoldOpen)

    def header(self, name: str) -> str | None:
        """The value of the response header ``name`` (any case), or None when it is not sent."""
        return next((value for key, value in self.headers.items() if key.lower() == name.lower()), None)

    @property
    def type_essence(self) -> str:
        """The Content-Type without its parameters, in the case it is sent ("" when none is)."""
        return (self.header("content-type") or "").split(";", 1)[0].strip()

    @property
    def refused(self) -> bool:
        """Must a client refuse this response (a status other than 200, N-04; a type other
        than text/event-stream, N-03) rather than read its body as a stream?"""
        return self.status != 200 or self.type_essence.lower() != "text/event-stream"

    @functools.cached_property
    def ends_mid_event(self) -> bool:
        """Does the body end (EOF, not held open) with an event still pending? Parsed once per
        connection: the runner asks on every attempt, and a case's body can be 14 MB."""
        if self.ends_held_open:
            return False
        parser = EventParser()
        for run in self.byte_runs():
            parser.feed(run)
        return parser.pending


# -- client options and expectations ----------------------------------------------------------
@dataclass(frozen=True)
class ClientOptions:
    """How the runner opens the stream and drives the client (``client`` in the JSON)."""

    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    last_event_id: str | None = None
    initial_retry_ms: int | None = None
    close_after_events: int | None = None
    read_timeout_ms: int | None = None
    restart_after_events: int | None = None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> ClientOptions:
        raw = raw or {}
        return cls(
            method=raw.get("method", "GET"),
            headers=dict(raw.get("headers", {})),
            body=raw.get("body"),
            last_event_id=raw.get("last_event_id"),
            initial_retry_ms=raw.get("initial_retry_ms"),
            close_after_events=raw.get("close_after_events"),
            read_timeout_ms=raw.get("read_timeout_ms"),
            restart_after_events=raw.get("restart_after_events"),
        )


@dataclass(frozen=True)
class Expect:
    """The judged outcome. ``None`` means "not judged by this case".

    ``error`` True: the client must end in failure; False: it must not; None: not judged
    (reconnecting cases, where clients differ in how they surface a final 204 or status).
    """

    events: tuple[Event, ...] = ()
    retry: int | None = None
    error: bool | None = None
    text: str | None = None
    min_reconnect_delay_ms: int | None = None
    max_reconnect_delay_ms: int | None = None
    requests: int | None = None
    open: bool = False
    comments: tuple[str, ...] | None = None
    notifications: tuple[str, ...] | None = None  # "open", "error" and "event" in order

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Expect:
        return cls(
            events=tuple(
                Event(e.get("event", "message"), text_value(e["data"]), e.get("id", ""))
                for e in raw.get("events", ())
            ),
            retry=raw.get("retry"),
            error=raw.get("error"),
            text=raw.get("text"),
            min_reconnect_delay_ms=raw.get("min_reconnect_delay_ms"),
            max_reconnect_delay_ms=raw.get("max_reconnect_delay_ms"),
            requests=raw.get("requests"),
            open=raw.get("open", False),
            comments=tuple(raw["comments"]) if "comments" in raw else None,
            notifications=tuple(raw["notifications"]) if "notifications" in raw else None,
        )


@dataclass(frozen=True)
class Divergence:
    """A documented, known difference of one implementation (for comparisons, never judged)."""

    reason: str
    expect: Expect


@dataclass(frozen=True)
class Case:
    """One client case: what the server sends on each request and what the client must do."""

    id: str
    description: str
    rules: tuple[str, ...]
    level: str
    spec: str
    area: str
    profile: str = "generic"
    requires: tuple[str, ...] = ()
    client: ClientOptions = field(default_factory=ClientOptions)
    connections: tuple[Connection, ...] = ()
    expect: Expect = field(default_factory=Expect)
    chunkings: tuple[str, ...] | None = None
    divergences: Mapping[str, Divergence] = field(default_factory=dict)
    exercises: tuple[str, ...] = ()  # behaviours its bytes exercise (cases/behaviours.py)

    @property
    def sets_retry(self) -> bool:
        """Does any connection's body carry a ``retry`` field (see ``Connection.sets_retry``)?"""
        return any(connection.sets_retry for connection in self.connections)

    @property
    def body_length(self) -> int:
        """The body bytes all its connections send (the runner sizes deadlines and turns by it)."""
        return sum(connection.body_length for connection in self.connections)

    def __str__(self) -> str:
        return f"{self.id} {self.description}"


def case_from_json(raw: Mapping[str, Any], area: str) -> Case:
    """Build a :class:`Case` from one already schema-valid JSON object."""
    chunkings = raw.get("chunkings")
    return Case(
        id=raw["id"],
        description=raw["description"],
        rules=tuple(raw["rules"]),
        level=raw["level"],
        spec=raw["spec"],
        area=area,
        profile=raw.get("profile", "generic"),
        requires=tuple(raw.get("requires", ())),
        client=ClientOptions.from_json(raw.get("client")),
        connections=tuple(Connection.from_json(c) for c in raw["connections"]),
        expect=Expect.from_json(raw["expect"]),
        chunkings=tuple(chunkings) if chunkings is not None else None,
        divergences={
            name: Divergence(d["reason"], Expect.from_json(d["expect"]))
            for name, d in raw.get("divergences", {}).items()
        },
        exercises=tuple(raw.get("exercises", ())),
    )
