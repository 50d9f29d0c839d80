"""sse-conformance: the conformance test suite for Server-Sent Events servers and clients.

``check_server`` and ``check_client`` are the Python API (see ``conformance.api``); they are
loaded on first use, so importing the package (as the pytest plugin does) stays cheap.
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["check_client", "check_server"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'conformance' has no attribute {name!r}")
