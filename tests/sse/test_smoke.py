"""Smoke test of the core until the full rule tests land."""

from conformance.sse import Event, parse


def test_parse_one_event():
    assert parse(b"data: a\n\n") == [Event("message", "a", "")]
