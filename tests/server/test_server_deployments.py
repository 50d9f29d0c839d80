"""Real components in front of a stream, started by the tests on 127.0.0.1: each gets the verdict
its delivery shows on the wire, and the component and mechanism that held the events are named
with that component's fix. A component that is not installed skips with the reason (.ci/run
installs them all).

The origin is the faulty server's ``/live`` (25 events, 0.1 s apart, no Server header), so any
Server or Via header is the proxy's own; PHP and Express run their own stream.
"""

from __future__ import annotations

import apache
import express
import haproxy
import lighttpd
import php_server
import pytest
import varnish

from conformance.results import Outcome
from conformance.server import run_server_suite

DELIVERY = ("S-04", "S-06", "P-02", "P-06")
BAD = {Outcome.FAIL, Outcome.WARN, Outcome.ERROR}


def _needs(found: str | None, what: str) -> None:
    if found is None:
        pytest.skip(f"{what} is not installed (.ci/run installs it)")


def _delivery(url: str) -> dict:
    report = run_server_suite(url, timeout=8, max_seconds=8)
    return {r.rule: r for r in report.results if r.rule in DELIVERY}


def _clean(found: dict) -> dict:
    """The delivery findings of a deployment that streams: none."""
    return {rule: f"{r.outcome.value}: {r.message}" for rule, r in found.items() if r.outcome in BAD}


def test_lighttpd_collecting_the_body_is_named_with_its_setting(faulty_url, tmp_path):
    _needs(lighttpd.find(), "lighttpd")
    with lighttpd.running(faulty_url, 0, tmp_path) as base:
        found = _delivery(base + "/live")
    assert found["P-06"].outcome is Outcome.FAIL and "final release" in found["P-06"].message
    assert found["S-04"].outcome is Outcome.WARN and "Content-Length" in found["S-04"].message
    assert found["P-02"].outcome is Outcome.WARN  # the headers were held with the body
    for rule in ("S-04", "P-02", "P-06"):
        assert "lighttpd is in front (server: lighttpd/" in found[rule].fix
        assert "server.stream-response-body = 2" in found[rule].fix


def test_lighttpd_streaming_the_body_draws_no_finding(faulty_url, tmp_path):
    _needs(lighttpd.find(), "lighttpd")
    with lighttpd.running(faulty_url, 2, tmp_path) as base:
        assert _clean(_delivery(base + "/live")) == {}


def test_varnish_without_do_stream_is_named_with_its_setting(faulty_url, tmp_path):
    _needs(varnish.find(), "varnishd")
    with varnish.running(faulty_url, False, tmp_path) as base:
        found = _delivery(base + "/live")
    assert found["P-06"].outcome is Outcome.FAIL and found["S-04"].outcome is Outcome.WARN
    assert found["P-02"].outcome is Outcome.WARN
    for rule in ("S-04", "P-02", "P-06"):
        assert "Varnish is in front (via: 1.1 varnish" in found[rule].fix
        assert "beresp.do_stream = true" in found[rule].fix
        assert "Return a streaming response" not in found[rule].fix  # the origin streams: not the app


def test_haproxy_corking_is_named_from_its_behaviour(faulty_url, tmp_path):
    _needs(haproxy.find(), "haproxy")
    with haproxy.running(faulty_url, False, tmp_path) as base:
        found = _delivery(base + "/live")
    s06 = found["S-06"]
    assert s06.outcome is Outcome.WARN and "MSG_MORE" in s06.message
    assert "HAProxy is in front (no Server header" in s06.fix and "option http-no-delay" in s06.fix
    assert found["P-06"].outcome is Outcome.PASS  # events do reach the client, late


def test_haproxy_with_http_no_delay_draws_no_finding(faulty_url, tmp_path):
    _needs(haproxy.find(), "haproxy")
    with haproxy.running(faulty_url, True, tmp_path) as base:
        assert _clean(_delivery(base + "/live")) == {}


def test_apache_proxy_with_mod_deflate_flushes_per_event(faulty_url, tmp_path):
    """mod_proxy_http flushes when the origin pauses, and mod_deflate passes the flush on."""
    _needs(apache.find(), "apache2 with mod_proxy_http")
    with apache.running(faulty_url, True, tmp_path) as base:
        found = _delivery(base + "/live")
    assert _clean(found) == {}
    assert "compressed (gzip) but flushed as written" in found["S-04"].message


def test_php_output_buffer_is_found_from_its_release_sizes(tmp_path):
    _needs(php_server.find(), "php-cli")
    with php_server.running("4096", tmp_path) as url:
        found = _delivery(url)
    s06 = found["S-06"]
    assert s06.outcome is Outcome.WARN and "just pass 4096 bytes" in s06.message
    assert "PHP runs the app (x-powered-by: PHP/" in s06.fix and "output_buffering = Off" in s06.fix


def test_php_without_output_buffering_draws_no_finding(tmp_path):
    _needs(php_server.find(), "php-cli")
    with php_server.running("0", tmp_path) as url:
        assert _clean(_delivery(url)) == {}


def _express(flush: bool, workdir) -> dict:
    reason = express.absent()
    if reason:
        pytest.skip(reason)
    with express.running(flush, workdir) as url:
        return _delivery(url)


def test_express_compression_without_flush_is_held_to_the_end(tmp_path):
    found = _express(False, tmp_path)
    p06 = found["P-06"]
    assert p06.outcome is Outcome.FAIL and "10 wire bytes came before it, decoding to nothing" in p06.message
    assert "Express compression() runs the app" in p06.fix and "res.flush()" in p06.fix
    assert found["S-04"].outcome is Outcome.WARN and "res.flush()" in found["S-04"].fix


def test_express_compression_with_flush_draws_no_finding(tmp_path):
    found = _express(True, tmp_path)
    assert _clean(found) == {}
    assert "compressed (gzip) but flushed as written" in found["S-04"].message
