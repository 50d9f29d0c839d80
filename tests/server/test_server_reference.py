"""Both reference servers pass every server check on every endpoint: no fail, no warn, no error.

Active checks run too: resume on resumable endpoints, idle on slow ones (with a short heartbeat),
CORS with an allowed origin. A check that flags a reference server is either its bug or ours.
"""

from __future__ import annotations

import pytest

reference_servers = pytest.importorskip("reference_servers")

from conformance.results import Outcome  # noqa: E402
from conformance.server import run_server_suite  # noqa: E402

ORIGIN = "https://app.example"
HEARTBEAT = 0.05


@pytest.fixture(scope="module", params=reference_servers.KINDS)
def base(request):
    with reference_servers.running(request.param, heartbeat=HEARTBEAT, allowed_origins=[ORIGIN]) as url:
        yield url


@pytest.mark.parametrize("ep", reference_servers.ENDPOINTS, ids=lambda ep: ep.name)
def test_reference_endpoint_passes_every_check(base, ep):
    report = run_server_suite(
        base + ep.url_path, profile=ep.profile, method=ep.method,
        headers=[("Content-Type", "application/json")] if ep.body is not None else [],
        data=ep.body_text() if ep.body is not None else None,
        resume=ep.resumable, idle=4 * HEARTBEAT if ep.idle else None, origin=ORIGIN,
        timeout=5, max_seconds=5)
    flagged = [f"{r.rule} {r.outcome.value}: {r.message}" for r in report.results
               if r.outcome in (Outcome.FAIL, Outcome.WARN, Outcome.ERROR)]
    assert flagged == []
    judged = {r.rule for r in report.results if r.outcome is Outcome.PASS}
    assert {"S-01", "S-09", "S-23", "S-08"} <= judged
    if ep.resumable:
        assert "S-19" in judged
    if ep.profile == "openai":
        assert ("O-05" if ep.mid_stream_error else "O-03") in judged
