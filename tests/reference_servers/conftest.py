"""One server per kind per test worker, with short timings so nothing waits on the defaults."""

from __future__ import annotations

import pytest
from refservers_support import ALLOWED, HEARTBEAT

import reference_servers


@pytest.fixture(scope="session", params=reference_servers.KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def base(kind: str):
    """Base URL of a running reference server: 50 ms heartbeats, one allowed CORS origin."""
    with reference_servers.running(kind, heartbeat=HEARTBEAT, interval=0.01,
                                   allowed_origins=[ALLOWED]) as url:
        yield url
