"""The suite's own client cases against every reference client: each must pass every MUST case.

Only the whole chunking runs here, to stay fast: the chunk-split hazards are this folder's own
tests (CR-only, CRLF and UTF-8 split across chunks), and ``sse-conformance selftest`` runs the
suite under every chunking.
The time bounds are scaled up so a loaded machine slows the run down instead of failing it.
"""

from __future__ import annotations

import pytest

from conformance.client import run_client_suite
from conformance.results import Outcome

TARGETS = {
    "httpx": "reference_clients.httpx_client:conformance_target",
    "httpx-async": "reference_clients.httpx_client:async_conformance_target",
    "aiohttp": "reference_clients.aiohttp_client:conformance_target",
    "requests": "reference_clients.requests_client:conformance_target",
}


@pytest.mark.parametrize("target", TARGETS.values(), ids=TARGETS.keys())
def test_every_must_case_passes(target):
    report = run_client_suite(target, chunkings=["whole"])
    problems = [
        f"{r.case}[{r.chunking}] {r.rule} {r.outcome.value}: {r.message}"
        for r in report.results
        if r.outcome in (Outcome.FAIL, Outcome.ERROR)
    ]
    assert report.ok, "\n".join(problems[:20])
    assert sum(r.outcome is Outcome.PASS for r in report.results) > 100  # the suite really ran
