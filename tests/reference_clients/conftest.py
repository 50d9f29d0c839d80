"""Fixtures: one scripted server per worker, and ``client`` parametrized over every transport."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from refclients_support import CLIENTS, Run, ScriptServer

FAST = {"retry_ms": 10, "read_timeout": 5.0, "timeout": 5.0}  # no test can hang for long


@pytest.fixture(scope="session")
def server() -> Iterator[ScriptServer]:
    script_server = ScriptServer()
    yield script_server
    script_server.close()


@pytest.fixture(params=sorted(CLIENTS))
def client(request: pytest.FixtureRequest) -> Callable[..., Run]:
    """``client(url, limit=None, **options) -> Run``: run one transport to its end."""
    run = CLIENTS[request.param]

    def with_defaults(url: str, **options: object) -> Run:
        return run(url, **{**FAST, **options})

    return with_defaults
