"""CORS from ALLOWED_ORIGINS (S-08): allowed origins get headers, preflights allow Last-Event-ID."""

from __future__ import annotations

import httpx
import pytest
from refservers_support import ALLOWED, raw_request

import reference_servers


def test_allowed_origin_is_echoed_on_the_stream(base):
    response = raw_request(base, "GET", "/events?count=1", headers={"Origin": ALLOWED})
    assert response.status == 200
    assert response.header("Access-Control-Allow-Origin") == [ALLOWED]
    assert response.header("Access-Control-Allow-Credentials") == ["true"]
    assert response.chunked_end and b"event: complete" in response.body


def test_other_origins_get_no_cors_headers(base):
    response = raw_request(base, "GET", "/events?count=1", headers={"Origin": "http://evil.test"})
    assert response.status == 200
    assert response.header("Access-Control-Allow-Origin") == []


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_preflight_allows_last_event_id(base, method):
    response = httpx.options(base + "/events", headers={
        "Origin": ALLOWED,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "last-event-id, content-type",
    })
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] == ALLOWED
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert "last-event-id" in allowed_headers and "content-type" in allowed_headers
    assert method in response.headers["access-control-allow-methods"]


@pytest.mark.parametrize("origins", [["*"], "http://x.test,http://allowed.test"])
def test_origins_setting_forms(kind, origins):
    with reference_servers.running(kind, allowed_origins=origins) as url:
        response = raw_request(url, "GET", "/events?count=0", headers={"Origin": ALLOWED})
    assert response.header("Access-Control-Allow-Origin") in ([ALLOWED], ["*"])


def test_no_cors_headers_without_the_setting(kind, monkeypatch):
    monkeypatch.delenv("ALLOWED_ORIGINS", raising=False)
    with reference_servers.running(kind) as url:
        response = raw_request(url, "GET", "/events?count=0", headers={"Origin": ALLOWED})
    assert response.status == 200 and response.header("Access-Control-Allow-Origin") == []


def test_allowed_origins_env_is_the_default(kind, monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", "http://localhost:3000, http://allowed.test")
    with reference_servers.running(kind) as url:
        response = raw_request(url, "GET", "/events?count=0", headers={"Origin": ALLOWED})
    assert response.header("Access-Control-Allow-Origin") == [ALLOWED]


def test_any_origin_gets_a_wildcard_without_credentials(kind):
    """'*' must not hand a logged-in user's stream to any site (Fetch: no credentials with '*')."""
    with reference_servers.running(kind, allowed_origins=["*"]) as url:
        stream = raw_request(url, "GET", "/events?count=0", headers={"Origin": "http://evil.test"})
        preflight = httpx.options(url + "/events", headers={
            "Origin": "http://evil.test", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})
    assert stream.header("Access-Control-Allow-Origin") == ["*"]
    assert stream.header("Access-Control-Allow-Credentials") == []
    assert preflight.headers.get("access-control-allow-credentials") is None
    assert "authorization" not in preflight.headers.get("access-control-allow-headers", "").lower()
