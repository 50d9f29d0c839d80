"""The error every face reports the same way: bad input, one line, exit status 2; and any
exception told in one line (``describe_error``), for a client's, or a module's that will not import.

Why its own module: the suites (``client/options.py``, ``server/cli.py``...) raise it while
checking what a person typed, and a suite never imports a face (docs/ARCHITECTURE.md); here it
sits below both, importing nothing.
"""

from __future__ import annotations

__all__ = ["UsageError", "describe_error"]


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit status 2."""


def describe_error(error: BaseException) -> str:
    """``Type: text``, or the type alone; never raises (an exception whose __str__ raises is still
    the exception its owner raised)."""
    try:
        text = str(error)
    except Exception:
        text = ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
