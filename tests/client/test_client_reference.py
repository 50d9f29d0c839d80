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


def test_results_keep_plan_order_when_the_items_that_wait_start_first():
    from conformance.client.runner import plan_items, run_client_suite

    # RT-001 whole waits out its 3 s retry and starts first; the report still reads in plan order
    pattern, chunkings = "RT-00[1-3]", ["whole", "1-byte"]
    report = run_client_suite(httpx_client.conformance_target, pattern=pattern, chunkings=chunkings)
    planned = [(i.case.id, i.chunking.name) for i in plan_items(pattern=pattern, chunkings=chunkings)]
    assert list(dict.fromkeys((r.case, r.chunking) for r in report.results)) == planned  # a result per rule
    assert {r.outcome for r in report.results} == {Outcome.PASS}
