"""sse-conformance: the conformance test suite for Server-Sent Events servers and clients.

``check_server`` and ``check_client`` are the Python API (see ``conformance.api``); they are
loaded on first use, so importing the package (as the pytest plugin does) stays cheap.
"""

from .imports import lazy_names

__version__ = "0.1.0"
__all__ = ["check_client", "check_server"]
__getattr__ = lazy_names(__name__, dict.fromkeys(__all__, "api"))
