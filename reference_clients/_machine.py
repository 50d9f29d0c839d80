"""The sans-IO reconnection state machine every reference client shares.

It owns everything but I/O: which request to make, what a response means, the one
:class:`~conformance.sse.EventParser` (whose last event ID and reconnection time survive
reconnects, N-12..N-14), and what to do at the end of a body or on a network error (N-09, N-10).
A transport only sends the request it is given, reports what came back, and sleeps for
:attr:`Machine.delay` when the machine is WAITING.

States and inputs form one table, :data:`TRANSITIONS`; any pair not in it is a transport bug.

    CONNECTING --open--> OPEN --body end / network error--> WAITING --waited--> CONNECTING
    CONNECTING --redirect--> CONNECTING          CONNECTING --network error--> WAITING
    CONNECTING --204 / failure--> CLOSED         any --close / no reconnect left--> CLOSED

With ``notifications=True`` the machine also notes what an EventSource fires on each input
(:data:`NOTICES`): ``open`` when it announces a connection, ``error`` when it reestablishes one
(into WAITING) or fails it (into CLOSED); a redirect, the wait and the caller's close fire nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.sse import Event, EventParser, EventTooLarge, LineTooLong

from ._errors import ConnectionLost, InvalidRedirect, LimitExceeded, ReadTimeout
from ._judge import MAX_REDIRECTS, Verdict, judge, redirected
from ._request import Headers, Request, encode_body, merge_headers

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "DEFAULT_MAX_LINE_BYTES",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_RETRY_MS",
    "DEFAULT_TIMEOUT",
    "NOTICES",
    "TRANSITIONS",
    "Comment",
    "Input",
    "Machine",
    "Notice",
    "State",
]

DEFAULT_RETRY_MS = 3000  # what browsers and undici use before any retry field
DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024  # far above the 5 MiB events real streams carry (C-38)
DEFAULT_MAX_EVENT_BYTES = 64 * 1024 * 1024
MAX_DELAY_S = 24 * 3600.0  # a 20-digit retry is legal (C-36); sleeping on it must not overflow
DEFAULT_TIMEOUT = 10.0  # seconds to connect
DEFAULT_READ_TIMEOUT = 300.0  # seconds of silence before reconnecting: a dead peer never hangs us


@dataclass(frozen=True)
class Comment:
    """A comment line's text after the colon, untouched (only with ``comments=True``).

    Comments are reported after the events that the same chunk of bytes completed.
    """

    text: str


class State(enum.Enum):
    CONNECTING = "connecting"
    OPEN = "open"
    WAITING = "waiting"
    CLOSED = "closed"


class Input(enum.Enum):
    OPENED = "200 text/event-stream"
    REDIRECTED = "3xx with a Location"
    STOPPED = "204 No Content"
    REJECTED = "bad status or content type"
    BODY_END = "end of body"
    NETWORK_ERROR = "network error"
    WAITED = "reconnection time passed"
    EXHAUSTED = "no reconnect left"
    RESTART = "restart()"
    CLOSE = "close()"


_S, _I = State, Input
TRANSITIONS: dict[tuple[State, Input], State] = {
    (_S.CONNECTING, _I.OPENED): _S.OPEN,
    (_S.CONNECTING, _I.REDIRECTED): _S.CONNECTING,
    (_S.CONNECTING, _I.STOPPED): _S.CLOSED,
    (_S.CONNECTING, _I.REJECTED): _S.CLOSED,
    (_S.CONNECTING, _I.NETWORK_ERROR): _S.WAITING,
    (_S.OPEN, _I.BODY_END): _S.WAITING,
    (_S.OPEN, _I.NETWORK_ERROR): _S.WAITING,
    (_S.OPEN, _I.REJECTED): _S.CLOSED,  # the body broke a bound (LimitExceeded)
    (_S.OPEN, _I.RESTART): _S.WAITING,
    (_S.WAITING, _I.WAITED): _S.CONNECTING,
    (_S.WAITING, _I.EXHAUSTED): _S.CLOSED,
    **{(state, _I.CLOSE): _S.CLOSED for state in State},
}

NOTICES: dict[Input, str] = {
    _I.OPENED: "open",
    **dict.fromkeys(
        (_I.BODY_END, _I.NETWORK_ERROR, _I.RESTART, _I.STOPPED, _I.REJECTED, _I.EXHAUSTED), "error"
    ),
}


@dataclass(frozen=True)
class Notice:
    """What an EventSource fires as ``open`` or ``error`` (only with ``notifications=True``),
    and the state it left: OPEN; WAITING (readyState CONNECTING: a reconnect follows); CLOSED."""

    kind: str
    state: State


_VERDICT_INPUT = {Verdict.OPEN: _I.OPENED, Verdict.STOP: _I.STOPPED, Verdict.REDIRECT: _I.REDIRECTED}


class Machine:
    """One event source's whole life, from the first request to CLOSED.

    ``retry_ms`` is the reconnection time until the server sends ``retry:``; ``max_reconnects``
    bounds the reconnects after the first connection (None: forever, as a browser does). The
    other keywords are described in :class:`~reference_clients._options.Options`.
    """

    def __init__(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: Headers | None = None,
        body: bytes | str | None = None,
        json: Any = None,
        last_event_id: str = "",
        retry_ms: int = DEFAULT_RETRY_MS,
        max_reconnects: int | None = None,
        max_line_bytes: int | None = DEFAULT_MAX_LINE_BYTES,
        max_event_bytes: int | None = DEFAULT_MAX_EVENT_BYTES,
        timeout: float | None = DEFAULT_TIMEOUT,
        read_timeout: float | None = DEFAULT_READ_TIMEOUT,
        comments: bool = False,
        notifications: bool = False,
    ) -> None:
        payload, implied_type = encode_body(body, json)
        pairs = merge_headers(headers, [("Content-Type", implied_type)] if implied_type else [])
        # The machine owns Last-Event-ID (N-11): a caller's header of that name is the preset.
        preset = [v for n, v in pairs if n.lower() == "last-event-id"]
        self._base = Request(
            method.upper(), url, tuple((n, v) for n, v in pairs if n.lower() != "last-event-id"), payload
        )
        self.parser = EventParser(
            last_event_id=last_event_id or (preset[-1] if preset else ""),
            max_line_bytes=max_line_bytes,
            max_event_bytes=max_event_bytes,
        )
        if comments:
            self.parser.keep_comments()
        self.default_retry_ms = retry_ms
        self.max_reconnects = max_reconnects
        self.timeout = timeout  # the transports apply both; the machine only carries them
        self.read_timeout = read_timeout
        self.state = State.CONNECTING
        self.connections = 0  # responses judged OPEN so far
        self.reconnects = 0
        self.request = self._first_request()
        self._hops = 0
        self._notices: list[Notice] | None = [] if notifications else None

    # -- what the transport asks ---------------------------------------------------------------
    @property
    def last_event_id(self) -> str:
        return self.parser.last_event_id

    @property
    def retry_ms(self) -> int:
        """The reconnection time now: the server's last valid ``retry``, else the default."""
        return self.default_retry_ms if self.parser.retry is None else self.parser.retry

    @property
    def delay(self) -> float:
        """Seconds to wait in WAITING before :meth:`waited` (N-13: at least the retry value)."""
        return min(self.retry_ms / 1000, MAX_DELAY_S)

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    # -- what the transport reports ----------------------------------------------------------
    def response(self, status: int, header: Callable[[str], str | None]) -> Verdict:
        """Judge a response (``header`` looks headers up case-insensitively); raise on failure."""
        try:
            verdict = judge(self.request, status, header)
            if verdict is Verdict.REDIRECT:
                self._hops += 1
                if self._hops > MAX_REDIRECTS:
                    raise InvalidRedirect(status, self.request.url, f"more than {MAX_REDIRECTS} redirects")
                self.request = redirected(self.request, status, header("location") or "")
        except Exception:
            self._go(Input.REJECTED)
            raise
        self._go(_VERDICT_INPUT[verdict])
        if verdict is Verdict.OPEN:
            self.connections += 1
            self.parser.reset()  # a new body: buffers, CR flag and BOM restart (N-14)
        return verdict

    def feed(self, data: bytes) -> list[Event]:
        """Body bytes in, events out; nothing once closed (N-15: queued events are dropped)."""
        if self.state is not State.OPEN:
            return []
        try:
            return self.parser.feed(data)
        except (LineTooLong, EventTooLarge) as error:
            self._go(Input.REJECTED)
            raise LimitExceeded(str(error)) from error

    def take_comments(self) -> list[Comment]:
        """Comments seen since the last call (always [] unless ``comments=True``)."""
        texts = self.parser.comments
        if not texts:
            return []
        self.parser.comments = []
        return [Comment(text) for text in texts]

    def take_notices(self) -> list[Notice]:
        """Notices since the last call, in order (always [] unless ``notifications=True``)."""
        notices = self._notices
        if not notices:
            return []
        self._notices = []
        return notices

    def body_ended(self) -> None:
        """EOF: discard the partial event (C-33) and wait to reconnect (N-10)."""
        if self.state is State.OPEN:
            self.parser.close()
            self._go(Input.BODY_END)
            self._maybe_exhausted(None)

    def network_error(self, error: BaseException, *, timeout: bool = False) -> None:
        """A connect or read failure: wait to reconnect (N-09), or raise if none is left."""
        if self.state is State.CLOSED:
            return
        if self.state is State.OPEN:
            self.parser.close()
        self._go(Input.NETWORK_ERROR)
        self._maybe_exhausted(error, timeout=timeout)

    def waited(self) -> None:
        """The reconnection time passed: the next request goes to the original URL (N-06)."""
        self._go(Input.WAITED)
        self.reconnects += 1
        self.request = self._first_request()
        self._hops = 0

    def restart(self) -> None:
        """The caller dropped the stream (LD's restart): discard the partial event and wait to
        reconnect with the last event ID, as after a network error. Only an open stream restarts."""
        if self.state is State.OPEN:
            self.parser.close()
            self._go(Input.RESTART)

    def close(self) -> None:
        """Stop for good, from any state (N-15)."""
        self._go(Input.CLOSE)

    # -- internals -----------------------------------------------------------------------------
    def _first_request(self) -> Request:
        last_id = self.parser.last_event_id
        if not last_id:  # absent, never empty, when there is no id (N-11)
            return self._base
        # HTTP drops a value's outer spaces and tabs anyway; libraries refuse to send them.
        return Request(
            self._base.method,
            self._base.url,
            (*self._base.headers, ("Last-Event-ID", last_id.strip(" \t"))),
            self._base.body,  # resent on every reconnect (N-19)
        )

    def _maybe_exhausted(self, error: BaseException | None, *, timeout: bool = False) -> None:
        if self.max_reconnects is None or self.reconnects < self.max_reconnects:
            return
        self._go(Input.EXHAUSTED)
        if error is not None:
            kind = ReadTimeout if timeout else ConnectionLost
            what = "no data within the read timeout" if timeout else f"network error: {error!r}"
            raise kind(f"{what} from {self.request.url}; no reconnect left") from error

    def _go(self, event: Input) -> None:
        try:
            self.state = TRANSITIONS[self.state, event]
        except KeyError:
            raise RuntimeError(f"transport bug: {event.value!r} while {self.state.value}") from None
        if self._notices is not None and event in NOTICES:
            self._notices.append(Notice(NOTICES[event], self.state))
