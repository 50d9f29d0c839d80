"""Chunk delivery: the next chunk is written only once the client has read the one before. A
split is judged only if the client's reads see it, and a pause after each write does not hold
under load; so the server asks the kernel's sock_diag (as ``ss`` does) how much the client's
socket consumed (docs/timing.md, check 3). Without sock_diag (another OS, a client on another
host, a socket gone) the rest of the connection is paced by a short pause instead. The netlink
and ``tcp_info`` layouts are pure functions, tested directly.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

from ..tcpinfo import TCPI_BYTES_ACKED, TCPI_BYTES_RECEIVED, TCPI_STATE, tcp_info, tcp_info_field, unsent_in

__all__ = ["READ_WAIT", "Delivery", "PeerCount", "PeerQueue", "connecting_or_unacked", "heading_to",
           "in_flight_to", "seconds_since", "written_by"]

READ_WAIT = 30.0
"""Seconds a client may take to read one chunk before delivery falls back to pacing: one that
reads nothing for this long is hung, and its item ends on a time stop anyway."""

_BACKOFF = (0.0, 0.0, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005)

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 1
NLM_F_DUMP = 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
INET_DIAG_INFO = 2
_NO_COOKIE = 0xFFFFFFFF
_ALL_STATES = 0xFFFFFFFF
_NLMSG = struct.Struct("=IHHII")  # length, type, flags, seq, pid
_SEQ, _SEQ_OFFSET = struct.Struct("=I"), 8  # where a request's number is
# inet_diag_msg: family, state, timer, retrans, (the 48-byte id), expires, rqueue, wqueue, uid, inode
_DIAG_MSG = struct.Struct("=BBBB48xIIIII")
_RTATTR = struct.Struct("=HH")


def diag_request(family: int, peer: tuple, local: tuple, seq: int) -> bytes:
    """A sock_diag request for exactly one TCP socket: the peer of our connection, so its source
    is our peer address and its destination our local one; asks for its ``tcp_info``."""
    sockid = struct.pack("!HH", peer[1], local[1])
    sockid += b"".join(socket.inet_pton(family, host).ljust(16, b"\0") for host in (peer[0], local[0]))
    sockid += struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE)
    wants_info = 1 << (INET_DIAG_INFO - 1)
    body = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, wants_info, 0, _ALL_STATES) + sockid
    return _NLMSG.pack(_NLMSG.size + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, seq, 0) + body


class PeerQueue(NamedTuple):
    """The client's socket per the kernel: bytes received, unread (a tuple: tens of thousands a run)."""

    received: int
    unread: int

    @property
    def consumed(self) -> int:
        return self.received - self.unread


def parse_diag_reply(data: bytes) -> PeerQueue | None:
    """The peer's queue from a sock_diag answer; None for an error or an answer without tcp_info."""
    if len(data) < _NLMSG.size:
        return None
    length, kind, _flags, _seq, _pid = _NLMSG.unpack_from(data)
    if kind != SOCK_DIAG_BY_FAMILY or len(data) < _NLMSG.size + _DIAG_MSG.size:
        return None
    unread = _DIAG_MSG.unpack_from(data, _NLMSG.size)[5]
    offset = _NLMSG.size + _DIAG_MSG.size
    while offset + _RTATTR.size <= min(length, len(data)):
        size, kind = _RTATTR.unpack_from(data, offset)
        if size < _RTATTR.size:
            return None
        if kind == INET_DIAG_INFO and size >= _RTATTR.size + TCPI_BYTES_RECEIVED + 8:
            (received,) = struct.unpack_from("=Q", data, offset + _RTATTR.size + TCPI_BYTES_RECEIVED)
            return PeerQueue(received=received, unread=unread)
        offset += (size + 3) & ~3
    return None


class _Diag:
    """One netlink socket per process, under a lock. No netlink turns it off for good (delivery
    is paced); a late answer replaces the socket (a stale answer must not be read as the next
    one's), and ``SLOW_LIMIT`` of them in a row turn it off."""

    SLOW_LIMIT = 3
    WAIT = 1.0  # seconds for the kernel's answer (it usually comes with the send)

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sock: socket.socket | None = None
        self.seq = 0
        self.broken = False
        self.slow = 0  # late answers in a row

    def ask(self, request: bytearray) -> PeerQueue | None:
        """The answer to a request from :func:`diag_request`, numbered here (its bytes 8-11)."""
        return self._exchange(request, _one_answer, counted=True)

    def dump(self, family: int, states: int) -> list[bytes] | None:
        """The raw inet_diag_msg of each TCP socket of ``family`` in ``states`` (a mask); None: no kernel."""
        return self._exchange(bytearray(dump_request(family, states, 0)), _dump_messages, counted=False)

    def _exchange(self, request: bytearray, read: Callable[[socket.socket, int], Any], counted: bool) -> Any:
        """``read``'s answer; a late one counts toward SLOW_LIMIT if ``counted`` (not a dump's)."""
        with self.lock:
            if self.sock is None and not self.broken:  # opened on first use
                try:
                    self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG)
                    self.sock.settimeout(self.WAIT)
                except (OSError, AttributeError, ValueError):
                    self.broken = True  # no netlink here (another OS, or forbidden): for good
            if self.broken or self.sock is None:
                return None
            try:
                self.seq += 1
                _SEQ.pack_into(request, _SEQ_OFFSET, self.seq)
                self.sock.send(request)
                answer = read(self.sock, self.seq)
                if counted:
                    self.slow = 0
                return answer
            except (OSError, ValueError):  # late (TimeoutError), or a full receive buffer
                self.sock.close()
                self.sock = None
                if counted:
                    self.slow += 1
                self.broken = self.slow >= self.SLOW_LIMIT
                return None


def _one_answer(sock: socket.socket, seq: int) -> PeerQueue | None:
    """The answer numbered ``seq`` (an earlier query's late answer is skipped)."""
    while True:
        answer = sock.recv(8192)
        if len(answer) >= _NLMSG.size and _NLMSG.unpack_from(answer)[3] == seq:
            return parse_diag_reply(answer)


def dump_request(family: int, states: int, seq: int) -> bytes:
    """A sock_diag request for every TCP socket of ``family`` in ``states``."""
    body = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, states) + b"\0" * 48
    head = _NLMSG.pack(_NLMSG.size + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq, 0)
    return head + body


def _dump_messages(sock: socket.socket, seq: int) -> list[bytes]:
    """The inet_diag_msg bodies of a dump's answers, read until its NLMSG_DONE."""
    found: list[bytes] = []
    while True:
        data = sock.recv(1 << 16)
        offset = 0
        while offset + _NLMSG.size <= len(data):
            length, kind, _flags, answer_seq, _pid = _NLMSG.unpack_from(data, offset)
            if length < _NLMSG.size:
                return found
            if answer_seq == seq:
                if kind in (NLMSG_DONE, NLMSG_ERROR):
                    return found
                found.append(data[offset + _NLMSG.size : offset + length])
            offset += (length + 3) & ~3


class DiagSocket(NamedTuple):
    """One socket of a dump: state, ports, queues, inode (a tuple: one per socket on the machine)."""

    state: int
    sport: int
    dport: int
    rqueue: int
    wqueue: int
    inode: int = 0


def parse_diag_msg(body: bytes) -> DiagSocket | None:
    """The fields of one inet_diag_msg this module needs (None: too short)."""
    if len(body) < _DIAG_MSG.size:
        return None
    sport, dport = struct.unpack_from("!HH", body, 4)
    fields = _DIAG_MSG.unpack_from(body)
    return DiagSocket(fields[1], sport, dport, fields[5], fields[6], fields[8])


TCP_ESTABLISHED, TCP_SYN_SENT, TCP_SYN_RECV, TCP_NEW_SYN_RECV = 1, 2, 3, 12
_IN_FLIGHT_STATES = sum(1 << s for s in (TCP_ESTABLISHED, TCP_SYN_SENT, TCP_SYN_RECV, TCP_NEW_SYN_RECV))


def heading_to(port: int, sockets: list[DiagSocket], inodes: frozenset[int]) -> bool:
    """Is something of the client owning socket ``inodes`` on its way to the server on ``port``: a
    connection being opened (either end of its handshake), bytes it sent not acknowledged, or bytes
    unread in the server's end of its connection (accepted or not)?"""
    ours = [s for s in sockets if s.inode in inodes and s.dport == port]
    if any(s.state == TCP_SYN_SENT or (s.state == TCP_ESTABLISHED and s.wqueue) for s in ours):
        return True
    client_ports = {s.sport for s in ours}
    return any(
        s.sport == port and s.dport in client_ports
        and (s.state in (TCP_SYN_RECV, TCP_NEW_SYN_RECV) or (s.state == TCP_ESTABLISHED and s.rqueue))
        for s in sockets
    )


def in_flight_to(port: int, inodes: frozenset[int]) -> bool | None:
    """:func:`heading_to` for this machine's IPv4 sockets now (None: the kernel cannot tell)."""
    bodies = _diag.dump(socket.AF_INET, _IN_FLIGHT_STATES)
    if bodies is None:
        return None
    return heading_to(port, [d for d in map(parse_diag_msg, bodies) if d is not None], inodes)


def connecting_or_unacked(port: int) -> bool:
    """The client half of :func:`heading_to` for clients in this process's threads (a lane), from
    its own few sockets instead of a costly dump: is one connecting (no peer address yet, so any
    counts), or holding bytes sent to ``port`` not yet acknowledged?"""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return False
    for name in names:
        try:
            sock = socket.socket(fileno=int(name))
        except (OSError, ValueError):
            continue  # not a socket, or closed meanwhile
        try:
            state = tcp_info_field(tcp_info(sock), TCPI_STATE, "B")
            if state == TCP_SYN_SENT:
                return True
            if state == TCP_ESTABLISHED and sock.getpeername()[1] == port and unsent_in(sock.fileno()):
                return True
        except OSError:
            continue
        finally:
            sock.detach()
    return False


_diag = _Diag()


class PeerCount:
    """The kernel's counts for one connection, asked per chunk: its sock_diag request made once."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.request: bytearray | None = None
        try:
            family, local, peer = sock.family, sock.getsockname(), sock.getpeername()
        except OSError:
            return
        if family in (socket.AF_INET, socket.AF_INET6):
            self.request = bytearray(diag_request(family, peer, local, 0))

    def consumed(self) -> int | None:
        """Bytes the other end (a client on this machine) has read, or None if unknown."""
        queue = None if self.request is None else _diag.ask(self.request)
        return None if queue is None else queue.consumed

    def read_all(self, written: int | None) -> bool | None:
        """Has the client read all ``written`` bytes (:func:`written_by`)? None: cannot tell."""
        consumed = None if written is None else self.consumed()
        return None if written is None or consumed is None else consumed >= written


def written_by(sock: socket.socket) -> int | None:
    """Bytes written into ``sock`` so far: acknowledged by the peer plus still queued."""
    acked = tcp_info_field(tcp_info(sock), TCPI_BYTES_ACKED, "=Q")
    queued = unsent_in(sock.fileno())
    return None if acked is None or queued is None else acked + queued


def seconds_since(stamp: int, sock: socket.socket | None) -> float:
    """Seconds since the kernel's ``stamp`` on ``sock`` (0.0: unknown): data last arrived
    (``TCPI_LAST_DATA_RECV``: a request came) or left (``TCPI_LAST_DATA_SENT``: a response
    ended), so a reconnect gap is not measured to when a busy loop or thread got to it."""
    ms = tcp_info_field(tcp_info(sock), stamp, "=I")
    return 0.0 if ms is None else ms / 1000


class Delivery:
    """Hands one connection's chunks over one at a time; ``after_write`` returns once the client
    read everything written so far, or after ``pause`` where that cannot be known."""

    def __init__(self, transport: asyncio.Transport | None, pause: float) -> None:
        self.transport = transport
        self.pause = pause
        self.sock: socket.socket | None = None if transport is None else transport.get_extra_info("socket")
        self.count = None if self.sock is None else PeerCount(self.sock)  # None once it cannot tell: pace

    async def after_write(self) -> bool:
        """Wait until the client read what was written; whether it is known to have."""
        if self.count is not None and await self._read_by_peer(self.count):
            return True
        self.count = None
        await asyncio.sleep(self.pause)
        return False

    async def _read_by_peer(self, count: PeerCount) -> bool:
        """Wait until the client consumed every byte written; False if that cannot be told.
        What was written is taken once our buffer is empty: nothing is written meanwhile."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + READ_WAIT
        step = 0
        written: int | None = None
        while loop.time() < give_up:
            if self.transport is None or self.transport.is_closing():
                return True  # nothing more will be written on it: no split left to protect
            if not self.transport.get_write_buffer_size():
                written = written_by(count.sock) if written is None else written
                read_all = count.read_all(written)
                if read_all is not False:
                    return bool(read_all)  # None: it cannot be told
            await asyncio.sleep(_BACKOFF[min(step, len(_BACKOFF) - 1)])
            step += 1
        return False
