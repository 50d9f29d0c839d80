"""The component behind a measured problem, named from its headers or its behaviour, with its own
fix for the mechanism seen; a peer's header value is escaped."""

from __future__ import annotations

import pytest

from conformance.server.capture import Capture, Request
from conformance.server.culprit import BUFFER, COMPRESS, CORK, LENGTH, diagnose
from conformance.server.timing import Delivery, Pattern


def cap(**headers: str) -> Capture:
    return Capture(Request("GET", "http://127.0.0.1:1/"), status=200,
                   headers=[(k.replace("_", "-"), v) for k, v in headers.items()])


@pytest.mark.parametrize(("headers", "mechanism", "named", "fix"), [
    ({"Server": "lighttpd/1.4.69"}, LENGTH, "lighttpd is in front (server: lighttpd/1.4.69)",
     "server.stream-response-body = 2"),
    ({"X_Varnish": "32770"}, LENGTH, "Varnish is in front (x-varnish: 32770)", "beresp.do_stream = true"),
    ({"Via": "1.1 varnish (Varnish/7.1)"}, LENGTH, "Varnish is in front (via:", "beresp.do_stream"),
    ({"Server": "Apache/2.4.71 (Debian)"}, COMPRESS, "Apache httpd is in front", "no-gzip"),
    ({"Server": "Caddy"}, BUFFER, "Caddy is in front", "flush_interval -1"),
    ({"Server": "nginx/1.22.1"}, COMPRESS, "nginx is in front", "proxy_buffering off"),
    ({"X_Powered_By": "Express"}, COMPRESS, "Express compression() runs the app", "res.flush()"),
    ({"X_Powered_By": "PHP/8.2"}, BUFFER, "PHP runs the app", "output_buffering = Off"),
])
def test_a_named_component_gets_its_own_fix(headers, mechanism, named, fix):
    found = diagnose(cap(**headers), Delivery(), mechanism).fix
    assert found.startswith(named) and fix in found


def test_a_component_is_not_blamed_for_a_mechanism_it_lacks():
    found = diagnose(cap(Server="lighttpd/1.4.69", X_Powered_By="PHP/8.2"), Delivery(), BUFFER).fix
    assert found.startswith("lighttpd")  # both buffer; the proxy in front is named first
    assert diagnose(cap(X_Powered_By="PHP/8.2"), Delivery(), COMPRESS).component is None


def test_haproxy_is_named_from_its_cork_without_a_header():
    diagnosis = diagnose(cap(), Delivery(pattern=Pattern.CORK))
    assert diagnosis.mechanism == CORK and "option http-no-delay" in diagnosis.fix
    assert diagnosis.fix.startswith("HAProxy is in front (no Server header")


def test_without_a_name_the_fix_says_the_mechanism_and_heads_no_framework():
    fix = diagnose(cap(Content_Encoding="gzip"), Delivery()).fix
    assert fix.startswith("Exclude text/event-stream from the compressor")
    assert diagnose(cap(Content_Length="12"), Delivery(pattern=Pattern.HELD)).fix.startswith(
        "Return a streaming response")


def test_a_header_value_is_escaped_in_the_fix():
    fix = diagnose(cap(Server="nginx\x1b[2J"), Delivery(), BUFFER).fix
    assert "\x1b" not in fix and fix.startswith("nginx is in front")
