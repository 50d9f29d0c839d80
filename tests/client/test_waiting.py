"""Silence as a state: the pure parsing of /proc and sock_diag, and real processes looked at.

The pure functions are fed the exact text and bytes Linux gives; the process tests start real
programs asleep in the system calls clients sleep in (epoll_wait, poll, select, nanosleep,
futex) and check what a look tells.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import subprocess
import sys
import time

import pytest

from conformance.client.delivery import (
    TCP_ESTABLISHED,
    TCP_NEW_SYN_RECV,
    TCP_SYN_SENT,
    DiagSocket,
    connecting_or_unacked,
    heading_to,
    parse_diag_msg,
)
from conformance.client.waiting import (
    _GENERIC,
    _X86_64,
    NO_TIMER,
    ProcessTree,
    asleep_twice,
    parse_stat_state,
    parse_syscall,
    timeout_of,
)

TIMESPEC = struct.Struct("=qq")


def memory(values: dict[int, bytes]):
    return lambda address, size: values.get(address)


def test_the_state_letter_is_read_after_a_command_name_with_spaces_and_parentheses():
    assert parse_stat_state(b"42 (my (odd) name) S 1 42 42 0 -1") == "S"
    assert parse_stat_state(b"42 (python3) R 1 42") == "R"


def test_a_syscall_line_gives_its_number_and_six_arguments_or_none_when_running():
    line = "232 0x4 0x7f25828f5550 0x2 0x7530 0x0 0x0 0x7ffc 0x7f25"
    assert parse_syscall(line) == (232, (4, 0x7F25828F5550, 2, 30000, 0, 0))
    assert parse_syscall("running") is None
    assert parse_syscall("-1 0x7ffc 0x7f25") is None  # asleep outside a system call


@pytest.mark.parametrize(
    ("number", "args", "seconds"),
    [
        (232, (4, 0, 2, 30000, 0, 0), 30.0),  # epoll_wait: ms in arg 3
        (281, (4, 0, 2, 0xFFFFFFFF, 0, 0), NO_TIMER),  # epoll_pwait with -1 (an int): no timer
        (7, (0, 1, 1500, 0, 0, 0), 1.5),  # poll
        (0, (0, 0, 4096, 0, 0, 0), NO_TIMER),  # read: blocks with no timer of its own
        (270, (1, 0, 0, 0, 0, 0), NO_TIMER),  # pselect6 with a NULL timeout
    ],
)
def test_millisecond_and_missing_timeouts(number, args, seconds):
    assert timeout_of(number, args, memory({}), 100.0, 1e9, _X86_64) == seconds


def test_timespec_timeouts_relative_and_absolute_are_read_from_memory():
    mem = memory({0x1000: TIMESPEC.pack(2, 500_000_000), 0x2000: TIMESPEC.pack(103, 0)})
    assert timeout_of(35, (0x1000, 0, 0, 0, 0, 0), mem, 100.0, 1e9, _X86_64) == 2.5  # nanosleep
    # futex WAIT_BITSET | PRIVATE (137): absolute CLOCK_MONOTONIC, 3 s from "now" (100.0)
    assert timeout_of(202, (0, 137, 0, 0x2000, 0, 0), mem, 100.0, 1e9, _X86_64) == 3.0
    # futex WAIT | PRIVATE (128): relative
    assert timeout_of(202, (0, 128, 0, 0x1000, 0, 0), mem, 100.0, 1e9, _X86_64) == 2.5
    # clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ...)
    assert timeout_of(230, (1, 1, 0x2000, 0, 0, 0), mem, 100.0, 1e9, _X86_64) == 3.0
    # an unreadable timespec is taken as "soon": look again, never "no timer"
    assert timeout_of(35, (0x9999, 0, 0, 0, 0, 0), mem, 100.0, 1e9, _X86_64) == 0.0


@pytest.mark.parametrize(
    ("op", "seconds"),
    [
        (128 | 9, 3.0),  # WAIT_BITSET | PRIVATE: absolute, CLOCK_MONOTONIC
        (128 | 11, 3.0),  # WAIT_REQUEUE_PI | PRIVATE: absolute, CLOCK_MONOTONIC
        (128 | 13, 3.0),  # LOCK_PI2 | PRIVATE: absolute, CLOCK_MONOTONIC by default
        (256 | 11, 4.0),  # WAIT_REQUEUE_PI | CLOCK_REALTIME: absolute against the wall clock
        (128 | 6, 4.0),  # LOCK_PI | PRIVATE: absolute, always CLOCK_REALTIME
        (128 | 0, 103.0),  # WAIT | PRIVATE: relative (the timespec holds 103 s)
    ],
)
def test_futex_absolute_timeouts_are_the_waiting_commands_from_linux_futex_h(op, seconds):
    """linux/futex.h: 9 WAIT_BITSET, 11 WAIT_REQUEUE_PI and the PI locks take an absolute time;
    10 is WAKE_BITSET, which never sleeps."""
    mem = memory({0x2000: TIMESPEC.pack(103, 0)})  # monotonic "now" 100.0, realtime "now" 99.0
    assert timeout_of(202, (0, op, 0, 0x2000, 0, 0), mem, 100.0, 99.0, _X86_64) == seconds


def test_the_generic_table_is_used_for_aarch64_numbers():
    assert timeout_of(22, (4, 0, 2, 250, 0, 0), memory({}), 0.0, 0.0, _GENERIC) == 0.25  # epoll_pwait
    assert timeout_of(232, (4, 0, 2, 250, 0, 0), memory({}), 0.0, 0.0, _GENERIC) == NO_TIMER


def _asleep(code: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
    tree = ProcessTree(proc.pid)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not asleep_twice(tree).waiting:
        time.sleep(0.05)  # the interpreter starting: a test's wait, not the suite's
    return proc



def test_a_process_that_is_gone_is_not_waiting_its_end_is_a_fact_to_report():
    # its exit reaches the run through its target (a command's exit status), never as a wait:
    # called waiting, a command reaped before its exit was reported read as "never finished"
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not asleep_twice(ProcessTree(proc.pid)).waiting

@pytest.mark.parametrize(
    ("code", "timer"),
    [
        ("import sys; sys.stdin.read()", False),
        ("import time; time.sleep(30)", True),
        ("import threading; threading.Event().wait(30)", True),
        ("import select, socket; a, b = socket.socketpair(); select.select([a], [], [], 30)", True),
        ("import threading; threading.Event().wait()", False),
    ],
)
def test_a_real_sleeping_process_is_waiting_and_its_timer_is_seen(code, timer):
    proc = _asleep(code)
    try:
        look = asleep_twice(ProcessTree(proc.pid))
        assert look.waiting
        due = look.timer_at - time.monotonic()
        assert (0 < due <= 30) if timer else look.timer_at == NO_TIMER
    finally:
        proc.kill()
        proc.wait()


def test_a_busy_process_is_never_waiting():
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        tree = ProcessTree(proc.pid)
        assert not any(asleep_twice(tree).waiting for _ in range(20))
    finally:
        proc.kill()
        proc.wait()


def test_a_child_of_the_client_counts_as_the_client():
    # the parent waits on its child with no timer; the child sleeps 30 s: a timer of the tree
    child = "import time; time.sleep(30)"
    proc = _asleep(f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])")
    try:
        tree = ProcessTree(proc.pid)
        assert len({pid for pid, _ in tree.threads()}) == 2
        assert asleep_twice(tree).timer_at != NO_TIMER
    finally:
        subprocess.run(["pkill", "-P", str(proc.pid)], check=False)
        proc.kill()
        proc.wait()


def test_what_is_on_its_way_to_the_server_is_told_from_both_ends_of_the_clients_connections():
    port, client = 8000, frozenset({11})
    idle = [DiagSocket(TCP_ESTABLISHED, 40000, port, 0, 0, 11),
            DiagSocket(TCP_ESTABLISHED, port, 40000, 0, 0, 99)]
    assert not heading_to(port, idle, client)
    assert heading_to(port, [DiagSocket(TCP_SYN_SENT, 40001, port, 0, 0, 11)], client)  # connecting
    assert heading_to(port, [DiagSocket(TCP_ESTABLISHED, 40000, port, 0, 120, 11)], client)  # unacked
    unread = [idle[0], DiagSocket(TCP_ESTABLISHED, port, 40000, 120, 0, 99)]  # the server's end
    assert heading_to(port, unread, client)
    half_open = [idle[0], DiagSocket(TCP_NEW_SYN_RECV, port, 40000, 0, 0, 0)]
    assert heading_to(port, half_open, client)
    # another client's traffic is not this one's
    assert not heading_to(port, [DiagSocket(TCP_SYN_SENT, 40002, port, 0, 0, 12)], client)
    assert not heading_to(port, [DiagSocket(TCP_ESTABLISHED, port, 40003, 50, 0, 99)], client)


def _listening(backlog: int = 8) -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(backlog)
    return server


def test_a_client_in_this_process_is_seen_connecting_or_with_bytes_its_server_has_not_acknowledged():
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(_listening())
        other = stack.enter_context(_listening())
        port, other_port = server.getsockname()[1], other.getsockname()[1]
        client = stack.enter_context(socket.create_connection(("127.0.0.1", port)))
        stack.enter_context(server.accept()[0])
        client.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert not connecting_or_unacked(port)  # every byte taken in by the kernel: nothing on its way

        # bytes written that the server's end cannot take (its buffer full, never read): queued
        stuffed = stack.enter_context(socket.create_connection(("127.0.0.1", other_port)))
        stack.enter_context(other.accept()[0])
        stuffed.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while True:
                stuffed.send(b"x" * 65536)
        assert not connecting_or_unacked(port)  # queued towards another port: not this server's
        assert connecting_or_unacked(other_port)

        # a connection being opened: a SYN the full accept queue of a listener drops stays unanswered
        full = stack.enter_context(_listening(0))
        address = full.getsockname()
        for _ in range(3):  # fills its accept queue (backlog 0 still takes one or two)
            waiting = stack.enter_context(socket.socket())
            waiting.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                waiting.connect(address)
        deadline = time.monotonic() + 5
        while not connecting_or_unacked(port) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert connecting_or_unacked(port)  # its peer is not known yet: any connecting socket counts


def test_an_inet_diag_message_is_read_field_by_field():
    body = bytes([2, TCP_ESTABLISHED, 0, 0]) + struct.pack("!HH", 40000, 8000) + b"\0" * 44
    body += struct.pack("=IIIII", 0, 7, 9, 0, 1234)
    assert parse_diag_msg(body) == DiagSocket(TCP_ESTABLISHED, 40000, 8000, 7, 9, 1234)
    assert parse_diag_msg(body[:20]) is None


def test_a_client_thread_blocked_on_a_lock_of_this_process_is_not_waiting():
    # a client run in a thread of the suite is looked at alone; blocked on a lock (the GIL's
    # mutex, under load) it waits for a thread left out of its tree, which may be running
    import os
    import threading

    held, started = threading.Lock(), threading.Event()
    held.acquire()

    def client() -> None:
        started.set()
        held.acquire()
        held.release()

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    started.wait()
    try:
        tree = ProcessTree(os.getpid(), [thread.native_id])
        for _ in range(200):  # until it is inside the lock's wait
            if tree.read(os.getpid(), thread.native_id, "syscall").split()[0] != b"running":
                break
            time.sleep(0.005)
        assert tree.look() is None
        assert not asleep_twice(tree).waiting
    finally:
        held.release()
        thread.join()


def test_a_client_thread_asleep_on_its_own_timer_or_socket_still_shows_it():
    import os
    import socket
    import threading

    left, right = socket.socketpair()
    asleep = threading.Event()

    def client() -> None:
        asleep.set()
        left.recv(1)  # waits for the outside world: no timer

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    asleep.wait()
    try:
        tree = ProcessTree(os.getpid(), [thread.native_id])
        for _ in range(200):
            look = asleep_twice(tree)
            if look.waiting:
                break
            time.sleep(0.005)
        assert look.waiting and look.timer_at == NO_TIMER
    finally:
        right.send(b"x")
        thread.join()
        left.close()
        right.close()
