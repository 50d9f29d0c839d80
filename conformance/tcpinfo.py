"""The kernel's counts for one socket (Linux): fields of ``struct tcp_info`` and the bytes
waiting unread. Both suites read them, the client suite's case server to pace its chunks and
the server suite for P-07's byte counts, and neither imports the other, so they live here.
A socket that is gone, not TCP, or on another OS gives None (or 0 unread): the callers treat
that as "the kernel cannot tell"."""

from __future__ import annotations

import fcntl
import socket
import struct
import termios

__all__ = ["TCPI_BYTES_ACKED", "TCPI_BYTES_RECEIVED", "TCPI_LAST_DATA_RECV", "TCPI_LAST_DATA_SENT",
           "TCPI_STATE", "TCP_INFO_SIZE", "tcp_info", "tcp_info_field", "unread_in", "unsent_in"]

TCPI_STATE = 0  # u8, the connection's state (1 ESTABLISHED ...)
TCPI_LAST_DATA_SENT = 44  # u32, ms since the last data left (jiffy resolution)
TCPI_LAST_DATA_RECV = 52  # u32, ms since the last data arrived (jiffy resolution)
TCPI_BYTES_ACKED = 120  # u64 offsets in struct tcp_info (Linux >= 4.1)
TCPI_BYTES_RECEIVED = 128
TCP_INFO_SIZE = 256


def tcp_info(sock: socket.socket | None) -> bytes | None:
    """The socket's ``struct tcp_info`` as one reading (None: not a TCP socket, or gone)."""
    try:
        return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_SIZE)  # type: ignore[union-attr]
    except (OSError, AttributeError, ValueError):
        return None


def tcp_info_field(info: bytes | None, offset: int, layout: str) -> int | None:
    """One field of a :func:`tcp_info` reading (None: no reading, or an older kernel's shorter one)."""
    if info is None or len(info) < offset + struct.calcsize(layout):
        return None
    return int(struct.unpack_from(layout, info, offset)[0])


def _queued(fileno: int, request: int) -> int | None:
    """A queue's byte count by ``ioctl`` (None where it cannot be told)."""
    try:
        (count,) = struct.unpack("i", fcntl.ioctl(fileno, request, b"\0" * 4))
    except (OSError, ValueError):
        return None
    return int(count)


def unread_in(fileno: int) -> int:
    """Bytes waiting to be read from a socket or pipe (FIONREAD); 0 where it cannot be told."""
    return _queued(fileno, termios.FIONREAD) or 0


def unsent_in(fileno: int) -> int | None:
    """Bytes written into a socket and not yet acknowledged by its peer, sent or not
    (TIOCOUTQ); None where it cannot be told."""
    return _queued(fileno, termios.TIOCOUTQ)
