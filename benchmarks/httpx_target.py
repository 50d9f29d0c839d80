"""The benchmarked Python target: the reference httpx client, one ``httpx.Client`` per worker.

A module of its own, so a worker process imports httpx and the reference client only, not the
benchmark's runner (aiohttp and the suite), which would cost every worker's start.
"""

from __future__ import annotations

from typing import Any

import httpx

from reference_clients import httpx_client

_client: httpx.Client | None = None


def shared_client_target(url: str, **options: object) -> Any:
    """The reference httpx client, one ``httpx.Client`` per worker process."""
    global _client
    if _client is None:
        _client = httpx.Client()
    return httpx_client.conformance_target(url, client=_client, **options)


shared_client_target.capabilities = httpx_client.conformance_target.capabilities  # type: ignore[attr-defined]
