"""The case server keeps a bounded record per URL and serves a compact index (issue 12).

A client the suite does not run can send anything to ``serve-cases``: 200 POSTs of 1 MiB to one
URL used to add about 160 MB that was never freed, and the index of the full corpus was 27.9 MB.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time

import aiohttp
import pytest

from conformance.cases import load_cases
from conformance.cases.chunkings import chunking
from conformance.client.caseserver import CaseServer
from conformance.client.options import make_plan
from conformance.client.serve import build_index, case_details
from conformance.client.slots import BODY_KEPT, KEEP_LAST

CASE = next(c for c in load_cases("generic", "LE-001"))
REQUESTS = 60
BODY = b"x" * (BODY_KEPT * 4 + 3)


def _flood(requests: int = REQUESTS, body: bytes = BODY, method: str = "POST"):
    """Send ``body`` ``requests`` times to one case URL; return the slot, statuses, /_requests view."""

    async def main():
        async with CaseServer() as server, aiohttp.ClientSession() as session:
            url = server.add(CASE, chunking("whole"))
            statuses = []
            for _ in range(requests):
                async with session.request(method, url, data=body or None) as response:
                    await response.read()
                    statuses.append(response.status)
            async with session.get(url.replace("/cases/", "/_requests/cases/")) as response:
                view = await response.json()
            return server.slot(CASE.id, "whole"), statuses, view

    return asyncio.run(main())


def test_the_request_log_keeps_the_scripted_requests_and_the_last_few():
    slot, statuses, view = _flood()
    assert statuses == [200] + [204] * (REQUESTS - 1)  # the script is unchanged by the bound
    head = len(CASE.connections) + 1
    assert slot.total == REQUESTS
    assert len(slot.requests) == head + KEEP_LAST
    kept = [r.number for r in slot.requests]
    assert kept == [*range(1, head + 1), *range(REQUESTS - KEEP_LAST + 1, REQUESTS + 1)]
    assert [entry["number"] for entry in view] == kept


def test_bodies_are_cut_and_keep_their_length():
    slot, _, view = _flood(requests=3)
    assert all(len(r.body) == BODY_KEPT and r.body_length == len(BODY) for r in slot.requests)
    assert all(entry["body_length"] == len(BODY) and entry["truncated"] is True for entry in view)
    assert len(json.dumps(view)) < 3 * (BODY_KEPT + 2048)


def test_a_short_body_is_kept_whole():
    slot, _, view = _flood(requests=1, body=b'{"q": 1}')
    assert slot.requests[0].body == '{"q": 1}' and slot.requests[0].body_length == 8
    assert view[0]["truncated"] is False


def test_the_index_of_every_case_is_small_and_details_hold_the_rest():
    items = make_plan(profile="generic", pattern=None, chunkings=None)
    server = CaseServer()
    index = build_index(server, items)
    assert index["count"] == len(items) > 1000
    assert len(json.dumps(index)) < 600_000  # every case x chunking; was 27.9 MB
    largest = max((item.case for item in items), key=lambda case: len(case_details(case)["expect"]["events"]))
    details = case_details(largest)
    assert details["expect"]["events"] and details["spec"].startswith("https://")
    assert {"expect", "client", "description"}.isdisjoint(index["cases"][0])


def test_a_bodiless_request_records_zero_length():
    slot, _, view = _flood(requests=1, body=b"", method="GET")
    assert slot.requests[0].body == "" and slot.requests[0].body_length == 0
    assert view[0]["method"] == "GET"


def _first_writes(monkeypatch, case_id: str) -> list[bytes]:
    """The bytes of each socket write the case server makes for ``case_id`` (whole), in order."""
    from asyncio import selector_events

    writes: list[bytes] = []
    original = selector_events._SelectorSocketTransport.write

    def record(transport, data):
        writes.append(bytes(data))
        return original(transport, data)

    monkeypatch.setattr(selector_events._SelectorSocketTransport, "write", record)
    case = next(c for c in load_cases("generic", case_id))

    async def main():
        async with CaseServer() as server:
            url = server.add(case, chunking("whole"))
            host, port = url.split("/")[2].split(":")
            reader, writer = await asyncio.open_connection(host, int(port))
            path = "/" + url.split("/", 3)[3]
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            await reader.read()  # to EOF
            writer.close()

    asyncio.run(main())
    return [w for w in writes if not w.startswith(b"GET ")]


def test_a_response_the_client_must_refuse_comes_with_its_body_in_one_write(monkeypatch):
    # aiosseclient closes its session on a 401 and reads the body anyway: it dispatched the event
    # only when the body had arrived before it closed (on a busy machine). In one write, always.
    for case_id, body in (("HT-036", b"data: data"), ("HT-030", b"data: data")):
        writes = _first_writes(monkeypatch, case_id)
        assert writes[0].startswith(b"HTTP/1.1 ") and body in writes[0], (case_id, writes[:2])
    empty = _first_writes(monkeypatch, "HT-031")  # a 205 with no body: headers and the end together
    assert empty[0].startswith(b"HTTP/1.1 205") and empty[0].endswith(b"0\r\n\r\n"), empty[:2]


def test_a_response_is_refused_for_its_status_or_its_type_only():
    def refused(case_id: str) -> bool:
        return next(c for c in load_cases("generic", case_id)).connections[0].refused

    assert not refused("LE-001")  # 200 text/event-stream
    assert refused("HT-030") and refused("HT-031")  # 201, 205
    assert refused("HT-024") and refused("HT-023") and refused("HT-026")  # text/plain, none, a typo


def test_a_same_origin_redirect_names_the_host_the_request_named():
    # The browser runs each case on a host name of its own: a {url} redirect must stay on it
    # (a redirect to 127.0.0.1 would be cross-origin there), and on 127.0.0.1 for everyone else.
    case = next(c for c in load_cases("generic", "HT-061"))

    async def location(host: str | None) -> tuple[str, str]:
        async with CaseServer() as server, aiohttp.ClientSession() as session:
            url = server.add(case, chunking("whole"))
            headers = {"Host": f"{host}:{server.port}"} if host else {}
            async with session.get(url, headers=headers, allow_redirects=False) as response:
                return url, response.headers["Location"]

    url, moved = asyncio.run(location("job7.sse-conformance.test"))
    port = url.split("/")[2].split(":")[1]
    assert moved == f"http://job7.sse-conformance.test:{port}/cases/HT-061/whole/redirected"
    url, moved = asyncio.run(location(None))
    assert moved == f"{url}/redirected"


def test_a_request_is_stamped_when_it_arrived_not_when_a_busy_loop_got_to_it():
    """A reconnect gap runs to the request's arrival: a case server whose event loop was busy
    (three clients' runs in one process) stamped requests late, and requests-sse's 100 ms
    reconnect against a 300 ms minimum (RC-025) passed in the report run."""
    busy = 0.4

    async def main():
        async with CaseServer() as server:
            url = server.add(CASE, chunking("whole"))
            host, port = url.split("/")[2].split(":")
            _, writer = await asyncio.open_connection(host, int(port))
            await asyncio.sleep(0.05)  # the server has accepted the connection
            path = url.split(port, 1)[1]
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())  # sent now
            sent = time.monotonic()
            time.sleep(busy)  # the loop is held: the server reads and handles it only after this
            slot = server.slot(CASE.id, "whole")
            while not slot.requests:
                await asyncio.sleep(0.01)
            writer.close()
            return slot.requests[0].received - sent

    late = asyncio.run(main())
    assert late < busy / 2, f"stamped {late:.3f} s after it was sent"


BAD_HEADER_CLIENT = """
import socket, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
with socket.create_connection((url.hostname, url.port)) as sock:
    request = b" HTTP/1.1\\r\\nHost: x\\r\\nLast-Event-ID: x\\0y\\r\\n\\r\\n"
    sock.sendall(b"GET " + url.path.encode() + request)
    sock.recv(1024)
"""


def test_a_request_the_server_cannot_parse_puts_no_traceback_on_the_terminal(tmp_path):
    """A client that puts a NUL in a header gets 400 from aiohttp, which logged it with its
    traceback: 500 lines on the terminal of a requests-sse run."""
    script = tmp_path / "bad_header.py"
    script.write_text(BAD_HEADER_CLIENT)
    run = subprocess.run(
        [sys.executable, "-m", "conformance", "client", "--cmd", f"{sys.executable} {script} {{url}}",
         "-k", "LE-001", "--chunking", "whole", "-q"],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr  # no events: the case fails
    assert "Traceback" not in run.stderr and "Error handling request" not in run.stderr, run.stderr[:600]


def _unread_on_server(server: CaseServer, wanted: int, connections: int) -> None:
    """Block (the loop too) until ``connections`` connections of ``server`` hold ``wanted``
    unread bytes each: requests on their way that aiohttp has not read, as a busy loop leaves them."""
    from conformance.tcpinfo import unread_in

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        socks = [h.transport.get_extra_info("socket") for h in server._runner.server.connections]  # type: ignore[union-attr]
        if sum(s is not None and unread_in(s.fileno()) >= wanted for s in socks) >= connections:
            return
        time.sleep(0.001)
    raise AssertionError("the bytes never reached the server's sockets")


def test_what_waits_on_another_client_process_s_connection_is_not_this_client_s():
    # Sixteen runs at once: a request on its way on one client's connection kept every other
    # client from being seen waiting. A connection whose last request came from another client
    # process is that process's (processes do not share sockets); on a connection of no
    # request yet, or of a client whose process is not known, whose bytes they are is unknown
    # and they count for everyone.
    other_case = next(c for c in load_cases("generic", "LE-002"))
    partial = b"GET /cases/LE-001/whole HTTP/1.1\r\n"

    async def main():
        async with CaseServer() as server:
            server.add(CASE, chunking("whole"))
            server.add(other_case, chunking("whole"))
            theirs = server.slot(CASE.id, "whole")
            theirs.client, mine = 1001, 1002  # the root PIDs of two clients' processes
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(f"GET {theirs.path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            await reader.readuntil(b"0\r\n\r\n")  # the stream, ended; the connection stays open
            seen = {}
            writer.transport.write(partial)  # their client's next request, not yet taken in
            _unread_on_server(server, len(partial), connections=1)
            seen["theirs"] = tuple(server.inbound_pending(who) for who in (None, 1001, mine))
            server.release(theirs)
            seen["their case is done"] = server.inbound_pending(mine)  # the process is still theirs
            theirs.client = None
            seen["their process unknown"] = server.inbound_pending(mine)
            writer.transport.abort()
            _, fresh = await asyncio.open_connection("127.0.0.1", server.port)
            await asyncio.sleep(0.05)  # accepted: the new connection is aiohttp's
            fresh.transport.write(partial)
            _unread_on_server(server, len(partial), connections=1)
            seen["a connection of no request yet"] = server.inbound_pending(mine)
            fresh.transport.abort()
            await asyncio.sleep(0.05)
            return seen

    assert asyncio.run(main()) == {
        "theirs": (True, True, False),  # for anyone, for their client, for mine
        "their case is done": False,
        "their process unknown": True,
        "a connection of no request yet": True,
    }


def test_a_request_that_names_another_case_s_url_is_not_this_client_s():
    # A lane: every client a thread of this process, so no connection is known to be another's.
    # What a request names tells: one for another case's URL is that case's client's; one whose
    # request line is not all in yet may be anyone's.
    other_case = next(c for c in load_cases("generic", "LE-002"))

    async def main():
        async with CaseServer() as server:
            server.add(CASE, chunking("whole"))
            server.add(other_case, chunking("whole"))
            mine, theirs = server.slot(CASE.id, "whole"), server.slot(other_case.id, "whole")
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            await asyncio.sleep(0.05)  # accepted: the new connection is aiohttp's
            seen = {}
            writer.transport.write(f"GET {theirs.path}?x=1 HTTP/1.1\r\n".encode())
            _unread_on_server(server, 10, connections=1)
            here, paths = os.getpid(), (None, theirs.path, mine.path)
            seen["theirs"] = tuple(server.inbound_pending(here, path) for path in paths)
            writer.transport.abort()
            _, fresh = await asyncio.open_connection("127.0.0.1", server.port)
            await asyncio.sleep(0.05)
            fresh.transport.write(b"GET /cases/LE")
            _unread_on_server(server, 13, connections=1)
            seen["not all in"] = server.inbound_pending(here, mine.path)
            fresh.transport.abort()
            await asyncio.sleep(0.05)
            return seen

    assert asyncio.run(main()) == {"theirs": (True, True, False), "not all in": True}


def test_a_request_aiohttp_could_not_parse_waiting_to_be_handled_counts_for_everyone():
    # aiohttp queues a bad request as an error record without a path (its _ErrInfo) until its
    # handler answers 400: whose it is cannot be told, and asking must not raise.
    from types import SimpleNamespace

    async def main():
        async with CaseServer() as server:
            server.add(CASE, chunking("whole"))
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            await asyncio.sleep(0.05)  # accepted: the new connection is aiohttp's
            (handler,) = server._runner.server.connections  # type: ignore[union-attr]
            handler._messages.append((SimpleNamespace(status=400, message="bad"), None))
            try:
                return server.inbound_pending(os.getpid(), server.slot(CASE.id, "whole").path)
            finally:
                handler._messages.clear()
                writer.transport.abort()
                await asyncio.sleep(0.05)

    assert asyncio.run(main()) is True


@pytest.mark.parametrize(("target", "mine"), [
    ("/cases/CM-001/whole", True),
    ("/cases/CM-001/whole/redirected?last=1", True),  # a redirect under its URL
    ("http://127.0.0.2:8080/cases/CM-001/whole/hop1", True),  # absolute form, another origin
    ("/cases/OP-010/whole%7E1", False),  # percent-encoded: another run's URL (whole~1)
    ("/cases/CM-001/whole~1", False),  # a run again of the same case, at a URL of its own
    ("/cases/CM-002/whole", False),
    ("/redirected", True),  # a client's wrong resolution: whose, unknown
    (None, True),  # a request line not all in
])
def test_whose_request_its_target_tells(target, mine):
    from conformance.client.caseserver import _for

    assert _for(target, "/cases/CM-001/whole") is mine
    assert _for(target, None) is True  # no slot asked: every request counts


def test_a_response_ends_when_its_last_byte_left_not_when_a_late_thread_stamps_it(monkeypatch):
    """A reconnect gap runs from the end of the response: Chromium's case server, a thread
    beside three clients' runs in one process, stamped the end of RC-025's second response
    70 ms late (the GIL and the CPU were elsewhere), and its correct 300 ms wait read as 227."""
    import socket
    import threading

    from aiohttp import web

    late = 0.4
    original = web.StreamResponse.write_eof

    async def write_eof_then_lose_the_cpu(self, data=b""):
        await original(self, data)
        time.sleep(late)  # the last byte is out; the thread gets the CPU back only now

    monkeypatch.setattr(web.StreamResponse, "write_eof", write_eof_then_lose_the_cpu)
    seen: dict[str, float] = {}

    def client(host: str, port: int, path: str) -> None:
        with socket.create_connection((host, port)) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            body = b""
            while not body.endswith(b"0\r\n\r\n"):
                body += sock.recv(4096)
            seen["last byte"] = time.monotonic()

    async def main():
        async with CaseServer() as server:
            url = server.add(CASE, chunking("whole"))
            host, port = url.split("/")[2].split(":")
            reader = threading.Thread(target=client, args=(host, int(port), url.split(port, 1)[1]))
            reader.start()
            slot = server.slot(CASE.id, "whole")
            while not (slot.requests and slot.requests[0].ended):
                await asyncio.sleep(0.01)
            reader.join(5)
            return slot.requests[0].ended - seen["last byte"]

    stamped_after = asyncio.run(main())
    assert stamped_after < late / 2, f"the end was stamped {stamped_after:.3f} s after the last byte came"


def test_a_stream_held_open_marks_its_own_request_sent_not_a_later_one_still_written():
    """Two connections to one URL at once (a client that reconnects without closing): the first
    reaching its HoldOpen must mark its own request sent. Marking the latest unsent one instead
    left the held request unsent (the run could never end as waiting) and called the second
    sent before its bytes were written."""
    import socket

    from conformance.cases import case_from_json

    case = case_from_json({
        "id": "HOLD-2", "description": "held, then a second stream", "rules": ["C-01"], "level": "must",
        "spec": "x", "expect": {"events": []},
        "connections": [{"stream": [{"text": "data: a\n\n"}, {"hold_open": True}]},
                        {"stream": [{"text": "data: b\n\n"}, {"text": "data: c\n\n"}]}],  # b never read
    }, "generic")

    async def main():
        async with CaseServer() as server:
            url = server.add(case, chunking("whole"))
            host, port = url.split("/")[2].split(":")
            path = url.split(port, 1)[1]
            slot = server.slot(case.id, "whole")
            loop = asyncio.get_running_loop()
            socks = []
            for wanted in (1, 2):  # the second arrives while the first waits to be read
                sock = socket.create_connection((host, int(port)))
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                socks.append(sock)
                while len(slot.requests) < wanted:
                    await asyncio.sleep(0.005)
            first = socks[0]
            first.setblocking(False)
            head = b""
            while b"data: a" not in head:  # read it: the first stream goes on to its HoldOpen
                head += await loop.sock_recv(first, 4096)
            while slot.requests[0].sent is None and slot.requests[1].sent is None:
                await asyncio.sleep(0.005)
            marks = [r.sent is not None for r in slot.requests]
            for sock in socks:
                sock.close()
            return marks

    assert asyncio.run(main()) == [True, False]


def test_the_time_a_request_waits_for_a_busy_suite_is_measured():
    """The legacy sseclient's HT-013 timed out in a report run: the suite's loop took its requests
    in 3-4 s late, the deadline counted that time against the client (``collect`` gives it back)."""
    import socket

    async def main(block: float) -> float:
        async with CaseServer() as server:
            url = server.add(CASE, chunking("whole"))
            host, port = url.split("/")[2].split(":")
            path = "/" + url.split("/", 3)[3]
            sock = socket.create_connection((host, int(port)))
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            time.sleep(block)  # the loop is busy elsewhere: the request waits in the kernel
            slot = server.slot(CASE.id, "whole")
            while not slot.requests:
                await asyncio.sleep(0.001)
            sock.close()
            return slot.answer_lag

    assert asyncio.run(main(0.3)) >= 0.25
    assert asyncio.run(main(0.0)) < 0.25
