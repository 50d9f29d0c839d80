"""Tiny HTTP clients, each with one planted bug (``planted.Planted``), importable by name for the
CLI: a cause inference test runs them end to end against the case server."""

from __future__ import annotations

from collections.abc import Iterator

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
correct = _client(None)
