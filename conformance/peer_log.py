"""One line per malformed request on the servers this package runs (``serve``, ``serve-cases``).

Why: aiohttp logs a full traceback for every request it cannot parse (BadHttpMessage,
LineTooLong), so one scanner or a client under test filled the terminal with tracebacks that
look like a bug of ours. The request was the peer's fault: say what it was, in one line, with
the peer's bytes escaped.
"""

from __future__ import annotations

import logging
import sys

from .display import printable

__all__ = ["one_line_request_errors"]

LIMIT = 200  # characters of the error shown: the peer chose its length


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            reason = " ".join(str(error).split())
            text = f"{text}: {type(error).__name__}: {reason}"
        return printable(text[:LIMIT] + ("…" if len(text) > LIMIT else ""))


def one_line_request_errors(stream: object = None) -> None:
    """Make aiohttp's request errors one escaped line each on stderr (idempotent)."""
    logger = logging.getLogger("aiohttp.server")
    if any(isinstance(h.formatter, _OneLine) for h in logger.handlers):
        return
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(_OneLine())
    logger.addHandler(handler)
    logger.propagate = False
