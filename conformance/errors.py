"""The error every face reports the same way: bad input, one line, exit status 2.

Why its own module: the suites (``client/options.py``, ``server/cli.py``...) raise it while
checking what a person typed, and a suite never imports a face (docs/ARCHITECTURE.md); here it
sits below both, importing nothing.
"""

from __future__ import annotations

__all__ = ["UsageError"]


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit status 2."""
