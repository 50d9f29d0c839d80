"""Body bytes reach the parser as raw chunks: line ends, UTF-8 and the BOM survive any split.

Each case would fail a client that reads with readline (LF only), iter_lines (CRLF split) or
decodes with the response's guessed charset.
"""

from __future__ import annotations

from refclients_support import HOLD, Reply

from conformance.sse import Event
from reference_clients import Comment


def test_cr_only_lines_dispatch_while_the_connection_is_open(server, client):
    # A readline-based client never sees a line end here, and the server never closes.
    url = server.script(Reply([b"data: a\rdata: b\r\r", HOLD]))
    run = client(url, limit=1)
    assert run.error is None
    assert run.events == [Event("message", "a\nb")]


def test_crlf_split_across_chunks_is_one_line_end(server, client):
    # Read as two line ends, the LF would end the event early: "a" and "b", not "a\nb".
    url = server.script(Reply([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]))
    assert client(url).events == [Event("message", "a\nb")]


def test_utf8_and_bom_split_across_chunks(server, client):
    url = server.script(
        Reply([b"\xef\xbb", b"\xbfdata: caf\xc3", b"\xa9 \xe2\x80", b"\xa6\n\n"]),
    )
    assert client(url).events == [Event("message", "café …")]


def test_charset_parameter_does_not_change_decoding(server, client):
    # requests would decode text/* as ISO-8859-1; the stream is UTF-8 whatever the header says.
    headers = {"Content-Type": "Text/Event-Stream; charset=windows-1252"}
    url = server.script(Reply([b"data: \xc3\xa9\n\n"], headers=headers))
    assert client(url).events == [Event("message", "é")]


def test_unterminated_last_event_is_discarded(server, client):
    url = server.script(Reply([b"data: first\n\ndata: second"]))
    assert client(url).events == [Event("message", "first")]


def test_comments_are_reported_only_when_asked(server, client):
    body = [b":hello\ndata: a\n\n: keep-alive\n"]
    assert client(server.script(Reply(body))).events == [Event("message", "a")]
    run = client(server.script(Reply(body)), comments=True)
    assert run.events == [Event("message", "a"), Comment("hello"), Comment(" keep-alive")]


def test_requests_without_read1_reads_raw_http_chunks():
    # urllib3 1.x has no read1: the transport then takes iter_content(None), raw bytes per chunk.
    from reference_clients.requests_client import _Response

    class Old:
        status_code = 200
        headers: dict[str, str] = {}  # noqa: RUF012
        raw = object()

        def iter_content(self, chunk_size):
            assert chunk_size is None
            return iter([b"data: \xc3", b"\xa9\r", b"\n\r\n"])

    assert list(_Response(Old()).chunks()) == [b"data: \xc3", b"\xa9\r", b"\n\r\n"]
