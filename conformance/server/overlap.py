"""P-07 from the kernel's byte counts: were two responses coming in at one and the same moment?

Why: a stream of 15 ms that ends by itself leaves the probe one question (was the second request
answered before that stream ended?), and the event loop's view of the order is only as good as
its punctuality: on a busy machine it reads both sockets late and finds both ends there at once.
The kernel counts the bytes each connection received (``tcp_info.tcpi_bytes_received``) as they
come, whoever reads them and whenever. A look at both counts is a fact about its moment:

    look = (first's count, second's count, first's count again)   read in that order

Two responses were in progress at once when, at one look, each had bytes and got more after it
(its count then is below its final count), or was still open when the suite closed it. A server
that serves one request at a time never gives such a look: its second response starts only once
the first has ended. Reading the first count twice brackets the second's: the first was in
progress for the whole look.

Looks come from a sampling thread and from the event loop (at each response's headers and as
it closes, before its connection does: the final count must be seen). A late look only misses
the moment (no proof: the probe tries again); it never makes one up, so load cannot make a pass.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import NamedTuple

from ..tcpinfo import TCPI_BYTES_RECEIVED, TCPI_STATE, tcp_info, tcp_info_field, unread_in

__all__ = ["PERIOD", "Look", "Looks", "data_received", "in_progress_together", "quiet"]

PERIOD = 0.0005  # seconds between the sampling thread's looks (a few getsockopt each, a few µs)
_ESTABLISHED = 1
_PEER_CLOSED = frozenset({6, 7, 8, 9, 11})  # TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, CLOSING


def _state_and_count(sock: socket.socket | None) -> tuple[int, int] | None:
    """The connection's state and ``tcpi_bytes_received``, from one reading (None: no count)."""
    info = tcp_info(sock)
    count = tcp_info_field(info, TCPI_BYTES_RECEIVED, "=Q")
    return None if info is None or count is None else (info[TCPI_STATE], count)


def data_received(sock: socket.socket | None) -> int | None:
    """Bytes of data the kernel received on ``sock`` so far, read or not (None: it cannot tell).

    ``tcpi_bytes_received`` counts the peer's FIN as one byte; a server that hands its worker to
    the next request before it closes the connection would otherwise seem to send a byte after
    the second response began. The kernel reads the state before it takes the count, so a FIN
    between the two is seen by a second reading: once the peer has closed, the data is its count
    less one, and no look can have seen more."""
    now, then = _state_and_count(sock), _state_and_count(sock)
    if now is None or then is None:
        return None
    return min(now[1], then[1] - 1) if then[0] in _PEER_CLOSED else now[1]


class Look(NamedTuple):
    """Bytes received by the two connections, read first, second, first again."""

    first: int
    second: int
    first_after: int


def in_progress_together(looks: list[Look], finals: tuple[int, int],
                         still_open: tuple[bool, bool] = (False, False)) -> Look | None:
    """The first look at which both responses had begun and were not over, or None.

    ``finals``: each connection's last count (a lower bound of its total, so a look below it
    surely came before that response's end). ``still_open``: the suite closed that response
    before it ended by itself, so every look after its first byte came while it was open."""
    for look in looks:
        first = look.first > 0 and (look.first_after < finals[0] or still_open[0])
        second = look.second > 0 and (look.second < finals[1] or still_open[1])
        if first and second:
            return look
    return None


def quiet(sock: socket.socket | None) -> bool:
    """Did the connection deliver all it received to the reader, and has its peer not closed?
    Then its response cannot have ended unseen: whatever ended it would still be waiting."""
    info = tcp_info(sock)
    if sock is None or info is None:
        return False
    return unread_in(sock.fileno()) == 0 and info[TCPI_STATE] == _ESTABLISHED


class Looks:
    """The looks at two connections, taken by a thread every ``PERIOD`` and by whoever calls
    :meth:`look`; ``on_proof`` is called (from either) once they show both in progress."""

    def __init__(self, on_proof: Callable[[], None] | None = None, period: float = PERIOD) -> None:
        self.socks: list[socket.socket | None] = [None, None]
        self.seen: list[Look] = []
        self.last: list[int] = [0, 0]  # each connection's latest count while it could be read
        self.on_proof = on_proof
        self.proven: Look | None = None
        self.blind = False  # a connection's count holds more than its response (TLS)
        self._period = period
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def watch(self, index: int, sock: socket.socket | None) -> None:
        """Count ``sock`` as connection ``index`` from now on. A new connection for the same
        request (a redirect) starts its count again: what the old one showed is forgotten.
        None: the connection speaks TLS, whose handshake bytes are no answer; nothing is proven."""
        with self._lock:
            if sock is None:
                self.blind = True
            if self.socks[index] is not None:
                self.seen, self.last[index], self.proven = [], 0, None
            self.socks[index] = sock

    def look(self) -> None:
        with self._lock:
            first, second = data_received(self.socks[0]), data_received(self.socks[1])
            first_after = data_received(self.socks[0])
            for index, count in ((0, first_after), (1, second)):
                if count is not None:
                    self.last[index] = count
            if None in (first, second, first_after):
                return
            found = Look(first, second, first_after)  # type: ignore[arg-type]
            if not self.seen or self.seen[-1] != found:
                self.seen.append(found)
            if self.proven is None and not self.blind:
                self.proven = in_progress_together(self.seen, (self.last[0], self.last[1]))
                if self.proven is not None and self.on_proof is not None:
                    self.on_proof()

    @contextlib.contextmanager
    def sampling(self) -> Iterator[Looks]:
        """Look every ``PERIOD`` in a thread of its own while the block runs."""
        thread = threading.Thread(target=self._run, name="p07-looks", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            self.look()
