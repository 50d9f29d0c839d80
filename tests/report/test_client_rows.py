"""Each client row's adapter on a few cases: it starts, speaks the protocol and is judged.

Every result must be a verdict on the library (pass, fail, warn), never an error of the adapter
itself (a crash, a broken protocol, a hang); and at least one of the plain LF cases passes, so the
adapter really carries events (the legacy sseclient's extra empty events fail LE-003 for real).
"""

from __future__ import annotations

import pytest

from conformance.client.runner import run_client_suite
from conformance.report.implementations import CLIENTS

RUNNABLE = [row for row in CLIENTS if not row.unavailable and row.origin != "reference"]


@pytest.mark.parametrize("row", RUNNABLE, ids=[row.name for row in RUNNABLE])
def test_each_client_row_is_judged_on_a_few_cases(row, report_cache):
    row.prepare(report_cache)
    target = row.targets(report_cache)["generic"]
    report = run_client_suite(target, pattern="LE-00[34]", chunkings=["whole"], capabilities=row.capabilities)
    seen = [(r.case, r.outcome.value, r.message) for r in report.results]
    assert {outcome for _, outcome, _ in seen} <= {"pass", "fail", "warn", "skip"}, seen
    assert not any("crash" in message or "broken" in message for _, _, message in seen), seen
    assert any(outcome == "pass" for _, outcome, _ in seen) or row.name.startswith("sseclient (legacy"), seen


def test_rows_that_cannot_run_say_why():
    for row in CLIENTS:
        if row.unavailable:
            with pytest.raises(RuntimeError, match=row.unavailable[:20]):
                row.prepare(None)  # type: ignore[arg-type]


def test_an_empty_event_type_is_reported_as_the_library_gives_it(report_cache):
    # ET-002 sends "event: \ndata:data": requests-sse gives the type "" (C-24), which an adapter
    # mapping every falsy type to "message" used to hide; httpx-sse itself gives "message"
    verdicts = {}
    for name in ("requests-sse", "httpx-sse"):
        row = next(r for r in CLIENTS if r.name == name)
        row.prepare(report_cache)
        target = row.targets(report_cache)["generic"]
        report = run_client_suite(target, pattern="ET-002", chunkings=["whole"],
                                  capabilities=row.capabilities)
        verdicts[name] = {(r.rule, r.outcome.value, r.actual) for r in report.results}
    assert verdicts["requests-sse"] == {("C-24", "fail", 'event="" data="data" id=""')}
    assert {outcome for _, outcome, _ in verdicts["httpx-sse"]} == {"pass"}


def test_httpx_adapters_load_the_ca_bundle_once_not_per_case(monkeypatch):
    # a new httpx.Client() loads the CA bundle: 21 ms of CPU a case, most of httpx-sse's run
    import ssl

    from conformance.report.clients import _common, _sdk_decoder, httpx_sse_client
    from reference_servers import running

    decoder = pytest.importorskip("openai._streaming").SSEDecoder
    made = []
    real = ssl.SSLContext.load_verify_locations
    counted = lambda *a, **k: made.append(1) or real(*a, **k)  # noqa: E731
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    _common.tls_context.cache_clear()
    with running("aiohttp") as base:
        url = base + "/events?count=2&interval=0"
        for _ in range(3):
            assert len(list(httpx_sse_client.target(url))) == 3  # two updates, then "complete"
            assert len(list(_sdk_decoder.decoded(url, decoder))) == 3
    assert len(made) == 1
