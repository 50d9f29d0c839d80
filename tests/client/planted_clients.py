"""Tiny HTTP clients, each with one planted bug (``planted.Planted``), importable by name for the
CLI: a cause inference test runs them end to end against the case server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
from naive_clients import _chunks
from planted import Planted


def _client(bug: str | None):
    def client(url: str, **options: object) -> Iterator[dict[str, str]]:
        parser = Planted(bug)
        for chunk in _chunks(url, **options):
            for event in parser.feed(chunk):
                yield event.as_dict()

    client.__name__ = client.__qualname__ = f"planted_{(bug or 'none').replace('-', '_')}"
    return client


lf_only = _client("lf-only")  # a lone CR is not a line end (C-08)
drops_id_only_blocks = _client("id-only")  # an id-only block's id is lost (C-30)
misses_split_blank_line = _client("blank-split")  # a blank line starting a read is lost (C-37)
mixed_read = _client("mixed-read")  # a CRLF hides later lone LFs in the same read (C-09)
judges_each_read_alone = _client("strip-read")  # whitespace starting a read is a blank line (C-37)
splits_crlf_twice = _client("crlf-split")  # a CRLF split across reads counts twice (C-10)
needs_space = _client("needs-space")  # "data:x" is no field: the tutorials' split(": ", 1) (C-15)
correct = _client(None)


def ends_events_on_double_terminators(url: str, **options: object) -> Iterator[dict[str, str]]:
    """openai 3.3.1's ``_iter_chunks``: an event ends only where the bytes so far end in
    ``\r\r``, ``\n\n`` or ``\r\n\r\n``; what is held is flushed at the end of the body (C-09)."""
    parser, held = Planted(None), b""
    for chunk in _chunks(url, **options):
        for piece in chunk.splitlines(keepends=True):
            held += piece
            if held.endswith((b"\r\r", b"\n\n", b"\r\n\r\n")):
                yield from (event.as_dict() for event in parser.feed(held))
                held = b""
    yield from (event.as_dict() for event in parser.feed(held))



def _read_if(accepted: Callable[[httpx.Response], bool], url: str) -> Iterator[dict[str, str]]:
    """A correct parser over one GET whose response ``accepted`` judges (the planted bug)."""
    parser = Planted(None)
    with httpx.stream("GET", url, timeout=10) as response:
        if not accepted(response):
            raise ConnectionError(f"status {response.status_code}, {response.headers.get('content-type')}")
        for chunk in response.iter_raw():
            yield from (event.as_dict() for event in parser.feed(chunk))


def ignores_content_type(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Any 200 is read as a stream: the Content-Type is never looked at (N-03)."""
    return _read_if(lambda response: response.status_code == 200, url)


def any_success_will_do(url: str, **options: object) -> Iterator[dict[str, str]]:
    """A 2xx is taken for the stream (fetch's res.ok, raise_for_status()): 201 and 206 are read."""
    return _read_if(lambda response: response.is_success and response.headers.get("content-type", "").lower()
                    .startswith("text/event-stream"), url)
