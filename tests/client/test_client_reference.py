"""The bundled reference clients pass the cases they declare, through the real runner."""

import httpx
import pytest
import requests
from conftest import run_cases

from conformance.results import Outcome
from reference_clients import aiohttp_client, httpx_client, requests_client

# One transport object per client kind: a new httpx.Client costs ~80 ms of TLS set-up per case.
_HTTPX = httpx.Client()
_REQUESTS = requests.Session()


def _shared(target, **transport):
    def call(url, **options):
        return target(url, **transport, **options)

    call.capabilities = target.capabilities
    call.__name__ = call.__qualname__ = target.__module__.rsplit(".", 1)[-1]
    return call


# aiohttp opens a session per case (its documented default), so it runs fewer splits.
REFERENCE = [
    (_shared(httpx_client.conformance_target, client=_HTTPX), ("whole", "crlf")),
    (_shared(requests_client.conformance_target, session=_REQUESTS), ("whole", "crlf")),
    (aiohttp_client.conformance_target, ("whole",)),
]
BAD = (Outcome.FAIL, Outcome.ERROR)
RULES = ["C-08", "C-10", "C-15", "C-27", "C-33", "N-04", "N-11", "N-12"]


@pytest.mark.parametrize(("target", "chunkings"), REFERENCE, ids=["httpx", "requests", "aiohttp"])
def test_a_reference_client_passes(target, chunkings):
    report = run_cases(target, rules=RULES, chunkings=chunkings)
    bad = [f"{r.name} {r.rule}: {r.message}" for r in report.results if r.outcome in BAD]
    assert not bad, bad[:5]
    ran = {r.case for r in report.results if r.outcome is Outcome.PASS}
    assert any(case.startswith("RC-") for case in ran), "the reconnection cases must run, not skip"
