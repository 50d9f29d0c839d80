"""Reference SSE servers: one set of scenarios served by an aiohttp and a FastAPI adapter.

In-process API (stable; ``selftest`` and the tests rely on it)::

    with reference_servers.running("aiohttp", heartbeat=0.05) as base:   # "http://127.0.0.1:PORT"
        ...
    async with reference_servers.running_async("fastapi") as base:
        ...
    for ep in reference_servers.ENDPOINTS: ep.method, ep.url_path, ep.body, ep.profile

App factories: ``reference_servers.aiohttp_app.create_app(settings)`` and
``reference_servers.fastapi_app.create_app(settings)``. CLI: ``sse-conformance serve KIND``.
"""

from .endpoints import ENDPOINTS, Endpoint, endpoint
from .runner import KINDS, running, running_async
from .settings import Settings

__all__ = ["ENDPOINTS", "KINDS", "Endpoint", "Settings", "endpoint", "running", "running_async"]
