"""The implementations table: third-party apps start and stream, failures become one-line reasons."""

from __future__ import annotations

import sys

import httpx
import pytest

from conformance.report.implementations import CLIENTS, SERVERS
from conformance.report.interop import _shape
from conformance.report.process import StartError, announced_url, python_module_command
from conformance.report.versions import python_version
from conformance.sse import Event, EventParser

THIRD_PARTY = [entry for entry in SERVERS if entry.origin != "reference"]


@pytest.mark.parametrize("entry", THIRD_PARTY, ids=[entry.name for entry in THIRD_PARTY])
def test_each_third_party_app_starts_and_streams_every_event(entry, report_cache):
    entry.prepare(report_cache)
    path = entry.probes()[0].path  # /events, or the reference server's first endpoint behind a proxy
    with entry.start(report_cache) as base, httpx.stream("GET", base + path, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        parser = EventParser()
        events = [e for chunk in response.iter_bytes() for e in parser.feed(chunk)]
    if entry.origin == "proxy":
        assert [e.id for e in events][:2] == ["1", "2"]
    else:
        assert [e.data.split("\n")[0] for e in events][:2] == ["hello", '{"n": 2}']


def test_a_crash_at_import_is_the_reason_not_a_traceback():
    start = announced_url([sys.executable, "-c", "import no_such_framework"], timeout=10)
    with pytest.raises(StartError, match="ModuleNotFoundError: No module named 'no_such_framework'"), start:
        pass


def test_a_server_that_never_listens_is_stopped_in_bounded_time():
    start = announced_url([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    with pytest.raises(StartError, match=r"did not announce a URL within 0\.5 s"), start:
        pass


def test_module_command_uses_this_interpreter():
    assert python_module_command("x.y") == [sys.executable, "-m", "x.y"]


def test_a_missing_distribution_says_how_to_install_it():
    with pytest.raises(LookupError, match=r"sse-conformance\[report\]"):
        python_version("no-such-distribution-for-sure")


def test_names_are_unique_within_a_role():
    for entries in (SERVERS, CLIENTS):
        names = [entry.name for entry in entries]
        assert len(names) == len(set(names))
    assert {entry.origin for entry in CLIENTS} <= {"reference", "third-party"}
    assert {entry.origin for entry in SERVERS} <= {"reference", "third-party", "proxy"}


def test_interop_folds_repeats_and_masks_digits():
    ticks = [Event("message", f'{{"count": {n}}}', "") for n in range(3)]
    assert _shape([*ticks, Event("error", "limit 0.1", "")]) == [
        ("message", '{"count": #}', ""),
        ("error", "limit #.#", ""),
    ]
