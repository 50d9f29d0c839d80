"""A naive SSE client as people write it: ``requests`` + ``iter_lines()``, for the benchmark.

Not a reference: it splits on what ``iter_lines`` calls a line, never reconnects, and joins a
long line's pieces the slow way (inside ``iter_lines``). The README's figure for "a naive
client" is the whole generic set against it:

    cd benchmarks && ../.venv/bin/sse-conformance client naive_requests_client:read_events -q
"""

from __future__ import annotations

from collections.abc import Iterator

import requests


def read_events(url: str, **options: object) -> Iterator[dict[str, str]]:
    with requests.get(url, stream=True, headers={"Accept": "text/event-stream"}, timeout=30) as response:
        data: list[str] = []
        event = {"event": "", "id": ""}
        for line in response.iter_lines(decode_unicode=True):
            if not line:
                if data:
                    yield {"data": "\n".join(data), "event": event["event"] or "message", "id": event["id"]}
                data, event = [], {"event": "", "id": ""}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            elif name in event:
                event[name] = value
