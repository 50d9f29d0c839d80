"""The server suite: point it at any SSE endpoint and learn which rule breaks which clients.

``run_server_suite(url, ...) -> Report`` is the API; ``cli`` and ``pytest_face`` are faces.
"""

from .options import Options, UnusableTarget
from .runner import run_server_suite

__all__ = ["Options", "UnusableTarget", "run_server_suite"]
