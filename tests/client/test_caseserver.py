"""The case server keeps a bounded record per URL and serves a compact index (issue 12).

A client the suite does not run can send anything to ``serve-cases``: 200 POSTs of 1 MiB to one
URL used to add about 160 MB that was never freed, and the index of the full corpus was 27.9 MB.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp

from conformance.cases import load_cases
from conformance.cases.chunkings import chunking
from conformance.client.caseserver import BODY_KEPT, KEEP_LAST, CaseServer
from conformance.client.options import make_plan
from conformance.client.serve import build_index, case_details

CASE = next(c for c in load_cases("generic", "LE-001"))
REQUESTS = 60
BODY = b"x" * (BODY_KEPT * 4 + 3)


def _flood(requests: int = REQUESTS, body: bytes = BODY, method: str = "POST"):
    """Send ``body`` ``requests`` times to one case URL; return the slot, statuses, /_requests view."""

    async def main():
        async with CaseServer() as server, aiohttp.ClientSession() as session:
            url = server.add(CASE, chunking("whole"))
            statuses = []
            for _ in range(requests):
                async with session.request(method, url, data=body or None) as response:
                    await response.read()
                    statuses.append(response.status)
            async with session.get(url.replace("/cases/", "/_requests/cases/")) as response:
                view = await response.json()
            return server.slot(CASE.id, "whole"), statuses, view

    return asyncio.run(main())


def test_the_request_log_keeps_the_scripted_requests_and_the_last_few():
    slot, statuses, view = _flood()
    assert statuses == [200] + [204] * (REQUESTS - 1)  # the script is unchanged by the bound
    head = len(CASE.connections) + 1
    assert slot.total == REQUESTS
    assert len(slot.requests) == head + KEEP_LAST
    kept = [r.number for r in slot.requests]
    assert kept == [*range(1, head + 1), *range(REQUESTS - KEEP_LAST + 1, REQUESTS + 1)]
    assert [entry["number"] for entry in view] == kept


def test_bodies_are_cut_and_keep_their_length():
    slot, _, view = _flood(requests=3)
    assert all(len(r.body) == BODY_KEPT and r.body_length == len(BODY) and r.truncated
               for r in slot.requests)
    assert view[0]["body_length"] == len(BODY) and view[0]["truncated"] is True
    assert len(json.dumps(view)) < 3 * (BODY_KEPT + 2048)


def test_a_short_body_is_kept_whole():
    slot, _, view = _flood(requests=1, body=b'{"q": 1}')
    assert slot.requests[0].body == '{"q": 1}' and slot.requests[0].body_length == 8
    assert view[0]["truncated"] is False


def test_the_index_of_every_case_is_small_and_details_hold_the_rest():
    items = make_plan(profile="generic", pattern=None, chunkings=None)
    server = CaseServer()
    index = build_index(server, items)
    assert index["count"] == len(items) > 1000
    assert len(json.dumps(index)) < 600_000  # every case x chunking; was 27.9 MB
    largest = max((item.case for item in items), key=lambda case: len(case_details(case)["expect"]["events"]))
    details = case_details(largest)
    assert details["expect"]["events"] and details["spec"].startswith("https://")
    assert {"expect", "client", "description"}.isdisjoint(index["cases"][0])


def test_a_bodiless_request_records_zero_length():
    slot, _, view = _flood(requests=1, body=b"", method="GET")
    assert slot.requests[0].body == "" and slot.requests[0].body_length == 0
    assert view[0]["method"] == "GET"
