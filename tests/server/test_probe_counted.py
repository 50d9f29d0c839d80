"""P-07 judged on the kernel's byte counts: a look at both responses coming in at once proves a
second request is answered while a stream is open, however late the look; a server that serves
one request at a time never gives such a look.

The reproducer of the flip: a stream of about 15 ms that ends by itself (the faulty server's
``/short``), read by an event loop that keeps falling behind (each of its turns blocked 50 ms,
as a reader that is not scheduled). The probe that judged the order the loop saw finds the
stream over before it could send the second request, every try; the counted probe passes.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from unittest import mock

import pytest

from conformance.results import Outcome
from conformance.server import probe as probe_module
from conformance.server.capture import Capture, Request
from conformance.server.checks.pitfalls import PROBE_SECONDS
from conformance.server.options import Options
from conformance.server.overlap import Look, data_received, in_progress_together, quiet
from conformance.server.registry import CHECKS, Context, Probe, is_inconclusive
from conformance.server.runner import judge
from conformance.server.stream import analyse

pytestmark = pytest.mark.skipif(not probe_module.counts_bytes(Request("GET", "http://127.0.0.1/")),
                                reason="the kernel's byte counts (tcp_info) are Linux only")

# -- the proof, on made-up looks ------------------------------------------------------------

FINALS = (300, 300)


def test_both_responses_with_bytes_and_more_to_come_at_one_look_prove_it():
    looks = [Look(0, 0, 0), Look(120, 0, 120), Look(120, 80, 150)]
    assert in_progress_together(looks, FINALS) == Look(120, 80, 150)


def test_one_response_after_the_other_never_proves_it():
    serial = [Look(0, 0, 0), Look(120, 0, 120), Look(300, 0, 300), Look(300, 80, 300), Look(300, 300, 300)]
    assert in_progress_together(serial, FINALS) is None
    second_first = [Look(0, 80, 0), Look(0, 300, 0), Look(120, 300, 120)]
    assert in_progress_together(second_first, FINALS) is None


def test_the_first_count_read_again_brackets_the_second():
    # the first ended between its two reads: the second's bytes may have come after its end
    assert in_progress_together([Look(120, 80, 300)], FINALS) is None


def test_a_response_the_suite_closed_before_it_ended_was_open_at_every_look():
    idle = [Look(120, 80, 120)]  # both idle until the close: the counts never grew again
    assert in_progress_together(idle, (120, 80)) is None
    assert in_progress_together(idle, (120, 80), still_open=(True, True)) == idle[0]


# -- the counts on a real connection -------------------------------------------------------------

@pytest.fixture
def connection():
    """A loopback TCP connection: (the client's socket, the server's)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    with client, server:
        yield client, server


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        data += sock.recv(size - len(data))
    return data


def test_the_count_is_the_data_received_read_or_not_and_leaves_out_the_fin(connection):
    client, server = connection
    assert data_received(client) == 0 and quiet(client)
    server.sendall(b"x" * 10)
    assert len(client.recv(10, socket.MSG_PEEK | socket.MSG_WAITALL)) == 10  # all in, none read
    _recv_exactly(client, 4)  # 6 still unread: the count is what came, not what was read
    assert data_received(client) == 10
    assert not quiet(client)  # bytes unread: an end might be among them
    _recv_exactly(client, 6)
    assert quiet(client)
    server.close()
    assert client.recv(1) == b""  # the FIN is in: the kernel counts it as a byte...
    assert _bytes_received(client) == 11
    assert data_received(client) == 10 and not quiet(client)  # ...the probe does not


def _bytes_received(sock: socket.socket) -> int:
    return struct.unpack_from("=Q", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 136), 128)[0]


# -- real servers on 127.0.0.1 ----------------------------------------------------------------

HELD = 5 + PROBE_SECONDS + 1


def _requests(url: str) -> tuple[Request, Request]:
    """As ``runner.observe`` makes them."""
    return (Request("GET", url, timeout=5, max_seconds=HELD),
            Request("GET", url, timeout=5, max_seconds=0.5, max_events=1))


async def _lagging(coro, lag: float):
    """Run ``coro`` while every turn of the event loop is held ``lag`` s (a sleep: the reader is
    not running, the server in its own thread is)."""
    async def lagger() -> None:
        while True:
            time.sleep(lag)
            await asyncio.sleep(0)

    behind = asyncio.ensure_future(lagger())
    try:
        return await coro
    finally:
        behind.cancel()


def _probe(url: str, lag: float = 0.0, counted: bool = True, tries: int = probe_module.TRIES) -> Probe:
    first, second = _requests(url)
    once = probe_module.probe(first, second, 5.0, PROBE_SECONDS, tries) if counted else \
        _uncounted(first, second, tries)
    return asyncio.run(_lagging(once, lag) if lag else once)


async def _uncounted(first: Request, second: Request, tries: int) -> Probe:
    """The probe as it was: the second sent once the loop saw the first's headers, the order the
    loop saw judging."""
    with mock.patch.object(probe_module, "counts_bytes", lambda req: False):
        return await probe_module.probe(first, second, 5.0, PROBE_SECONDS, tries)


def _verdict(probe: Probe):
    main = Capture(probe.first.request, status=200, t_headers=0.001)
    ctx = Context(Options(probe.first.request.url), main, analyse(main), probe=probe)
    return judge(CHECKS["P-07"], ctx)[0]


def test_a_short_stream_of_a_concurrent_server_passes(faulty_url):
    found = _verdict(_probe(faulty_url + "/short"))
    assert found.outcome is Outcome.PASS, found.message
    assert "the kernel had received" in found.message


def test_a_short_stream_passes_with_a_reader_that_keeps_falling_behind(faulty_url):
    found = _verdict(_probe(faulty_url + "/short", lag=0.05))
    assert found.outcome is Outcome.PASS, found.message


def test_the_order_the_late_reader_saw_could_not_tell(faulty_url):
    """The same lag defeats the probe judged on the loop's view: what the counts fix."""
    late = _probe(faulty_url + "/short", lag=0.05, counted=False, tries=3)
    assert late.raced_the_end and is_inconclusive(_verdict(late)) and late.tries == 3


@pytest.mark.parametrize("lag", [0.0, 0.05])
def test_a_short_stream_of_a_serial_server_never_passes(faulty_url, lag):
    found = _verdict(_probe(faulty_url + "/short-serial", lag=lag, tries=4))
    assert is_inconclusive(found), found.message
    assert "no look at the kernel's byte counts found both responses coming in" in found.message


def test_a_serial_server_with_a_stream_it_holds_is_found_broken(faulty_url):
    found = _verdict(_probe(faulty_url + "/single-worker"))
    assert found.outcome is Outcome.WARN, found.message
    assert "after the suite closed that stream" in found.message
