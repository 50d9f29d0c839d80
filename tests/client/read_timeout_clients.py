"""Clients with a read time-out (capability read-timeout), for the timer-race tests: one that
does it right, and two that get it wrong in ways load can never explain."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx

from conformance.sse import EventParser

# one connection per request, as the reference clients: no reused socket races a closing server
HTTP = httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=0))
CAPABILITIES = ("reconnect", "retry", "read-timeout")


def _client(url: str, options: dict[str, object], *, honours_timeout: bool,
            stops_ignored: int) -> Iterator[dict]:
    """Reconnects with the last event ID after the reconnection time, when a body ends, the
    connection drops or no byte came for ``read_timeout_ms`` (if it ``honours_timeout``);
    stops at a 204, after ignoring the first ``stops_ignored`` of them."""
    parser = EventParser(retry=int(options.get("initial_retry_ms") or 10))  # type: ignore[call-overload]
    limit = int(options.get("read_timeout_ms") or 0) / 1000 or None  # type: ignore[call-overload]
    timeout = httpx.Timeout(10, read=limit if honours_timeout else None)
    while True:
        headers = {"Last-Event-ID": parser.last_event_id.encode()} if parser.last_event_id else {}
        try:
            with HTTP.stream("GET", url, headers=headers, timeout=timeout) as response:
                if response.status_code == 204:
                    if not stops_ignored:
                        return
                    stops_ignored -= 1
                else:
                    for chunk in response.iter_raw():
                        for event in parser.feed(chunk):
                            yield event.as_dict()
        except httpx.TransportError:
            pass  # a read time-out or a dropped connection: reconnect
        parser.close()
        parser.reset()
        time.sleep((parser.retry or 0) / 1000)


def timely_client(url: str, **options: object) -> Iterator[dict]:
    """Right: its time-out fires after that long without a byte, and a 204 stops it."""
    return _client(url, options, honours_timeout=True, stops_ignored=0)


def never_times_out_client(url: str, **options: object) -> Iterator[dict]:
    """Declares read-timeout and ignores it: it waits on a silent stream for ever."""
    return _client(url, options, honours_timeout=False, stops_ignored=0)


def reconnects_past_a_204_client(url: str, **options: object) -> Iterator[dict]:
    """Times out right, but takes its first 204 for a dropped connection: one request too many,
    right after an answer that came at once."""
    return _client(url, options, honours_timeout=True, stops_ignored=1)


for _target in (timely_client, never_times_out_client, reconnects_past_a_204_client):
    _target.capabilities = CAPABILITIES  # type: ignore[attr-defined]
