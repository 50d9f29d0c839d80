"""The rendered numbers follow from the results: distinct cases, the bytes/split split, the legend."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from conformance.report.numbers import chunking_order, row_numbers, verdict
from conformance.report.render import render

CHUNKINGS = ["whole", "1-byte", "2-byte", "crlf", "utf8", "random-2", "random-10"]


def _r(case: str, chunking: str, outcome: str, level: str = "must", rule: str = "C-01") -> dict[str, Any]:
    return {"rule": rule, "case": case, "chunking": chunking, "level": level, "outcome": outcome}


def _client(results: list[dict[str, Any]], name: str = "lib") -> dict[str, Any]:
    return {
        "name": name,
        "role": "client",
        "origin": "third-party",
        "language": "Python",
        "version": "1",
        "status": "ok",
        "reason": "",
        "note": "",
        "reports": [{"meta": {"profile": "generic"}, "results": results}],
    }


def _doc(*impls: dict[str, Any]) -> dict[str, Any]:
    return {"format": "sse-conformance-report/1", "meta": {}, "implementations": list(impls), "interop": []}


def _summary_row(text: str, name: str) -> list[str]:
    line = next(line for line in text.split("\n") if line.startswith(f"| {name} ("))
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))]


HAND_MADE = [
    *(_r("A", c, "fail") for c in CHUNKINGS),  # fails on the bytes, under every chunking: ONE case
    _r("B", "whole", "pass"),
    _r("B", "1-byte", "fail"),  # only when split
    _r("B", "random-10", "fail"),
    _r("B", "random-2", "fail"),
    _r("B", "1-byte", "fail", rule="C-37"),  # the runner's chunking rule for a split-only failure
    _r("C", "whole", "warn"),  # a MUST the suite only warned about: still a broken MUST
    _r("D", "whole", "pass"),
    _r("E", "whole", "warn", level="should", rule="C-02"),
    _r("F", "whole", "skip"),  # not judged
]


def test_a_case_failing_under_every_chunking_counts_once_and_the_split_is_told_apart():
    numbers = row_numbers(_client(HAND_MADE))
    assert (numbers.judged, numbers.must_broken, numbers.should_broken) == (5, 3, 1)
    assert (numbers.on_the_bytes, numbers.only_when_split) == (3, 1)
    row = _summary_row(render(_doc(_client(HAND_MADE))), "lib")
    assert row[3:7] == ["5 cases", "3", "1", "3 / 1"]
    assert row[7].startswith("❌")


def test_the_verdict_follows_the_legend_strictly():
    assert verdict(_client([_r("C", "whole", "warn")])) == "must"  # a warned MUST is red
    assert verdict(_client([_r("E", "whole", "warn", level="should")])) == "should"
    assert verdict(_client([_r("D", "whole", "pass")])) == "conforms"
    assert verdict(_client([_r("F", "whole", "skip")])) == "nothing"
    assert verdict(_client([_r("G", "whole", "error")])) == "must"  # a hang stops a MUST too
    text = render(_doc(_client([_r("C", "whole", "warn")])))
    assert "⚠️" not in _summary_row(text, "lib")[7]


def test_chunkings_are_listed_once_in_canonical_order():
    text = render(_doc(_client(HAND_MADE)))
    assert "A [whole, 1-byte, 2-byte, crlf, utf8, random-2, random-10]" in text
    assert "B [1-byte, random-2, random-10]" in text
    assert sorted(["random-10", "random-2", "whole"], key=chunking_order) == [
        "whole",
        "random-2",
        "random-10",
    ]


def _recount(results: list[dict[str, Any]]) -> tuple[int, int, int, int, int]:
    """An independent, deliberately naive recount of what the summary row must say."""
    judged = {r["case"] for r in results if r["outcome"] in ("pass", "fail", "warn", "error")}
    bad = [r for r in results if r["outcome"] in ("fail", "warn", "error")]
    must = {r["case"] for r in bad if r["level"] == "must"}
    should = {r["case"] for r in bad} - must
    whole = [r for r in results if r["chunking"] == "whole" and r["outcome"] != "skip"]
    whole_ok = {r["case"] for r in whole} - {r["case"] for r in whole if r["outcome"] != "pass"}
    split_only = {c for c in must | should if c in whole_ok}
    return len(judged), len(must), len(should), len(must | should) - len(split_only), len(split_only)


@pytest.mark.parametrize("seed", range(40))
def test_random_results_render_exactly_the_recounted_numbers(seed: int):
    rng = random.Random(seed)
    results = []
    for case in (f"X-{n:03}" for n in range(rng.randint(1, 30))):
        level = rng.choice(["must", "should"])
        for chunking in rng.sample(CHUNKINGS, rng.randint(1, len(CHUNKINGS))):
            outcome = rng.choices(["pass", "fail", "warn", "error", "skip"], [6, 2, 1, 1, 1])[0]
            results.append(_r(case, chunking, outcome, level=level))
    judged, must, should, on_bytes, split = _recount(results)
    row = _summary_row(render(_doc(_client(results))), "lib")
    assert row[3:7] == [f"{judged} cases", str(must), str(should), f"{on_bytes} / {split}"]
    expected = "❌" if must else "⚠️" if should else "✅" if judged else "nothing"
    assert row[7].startswith(expected)


def test_the_real_document_renders_its_recounted_numbers(real_document: dict[str, Any]):
    client = next(i for i in real_document["implementations"] if i["name"] == "naive client")
    results = [r for rep in client["reports"] for r in rep["results"]]
    judged, must, should, on_bytes, split = _recount(results)
    row = _summary_row(render(real_document), "naive client")
    assert row[3:7] == [f"{judged} cases", str(must), str(should), f"{on_bytes} / {split}"]
    assert must > 0 and row[7].startswith("❌")  # the naive client breaks MUST rules for real


def test_server_rows_count_distinct_rules_over_endpoints(real_document: dict[str, Any]):
    row = _summary_row(render(real_document), "tiny \\| naive")
    assert row[3].endswith(" rules") and row[6] == "–"
    assert row[4] != "0" and row[7].startswith("❌")  # the bare CR (S-11) is a broken MUST


def test_every_time_out_is_listed_with_why_it_is_a_hang(tmp_path, monkeypatch):
    from conformance.report import hangs

    late = {**_r("RC-001", "whole", "error"), "message": "timed out after 4.0 s: the client never finished"}
    beside = {
        **_r("DI-002", "1-byte", "fail"),
        "message": "event #1 differs (and 1 more: timed out after 5 s)",
    }
    doc = _doc(_client([late, beside, _r("D", "whole", "pass")]))
    assert "lib, 2 case(s) (RC-001, DI-002): not explained yet" in render(doc)
    notes = tmp_path / "hangs.toml"
    notes.write_text(
        '[[hang]]\nimplementation = "lib"\ncases = ["RC-*"]\nwhy = "reconnects forever after 204"\n'
    )
    monkeypatch.setattr(hangs, "HANGS", notes)
    text = render(doc)
    assert "lib, 1 case(s) (RC-001): reconnects forever after 204" in text
    assert "lib, 1 case(s) (DI-002): not explained yet" in text


def test_the_details_list_each_distinct_failure_once_whatever_its_messages():
    # a message carrying a time differs under every chunking: it must not split one failure
    timed = [dict(_r("A", c, "fail"), message=f"request #3 came {i} ms after the previous one")
             for i, c in enumerate(CHUNKINGS)]
    other = [dict(_r("B", "whole", "fail"), message="event #1 differs in data")]
    text = render(_doc(_client(timed + other)))
    details = text[text.index("### lib"):]
    assert "2 distinct failure(s):" in details
    entry = next(line for line in details.split("\n") if " A [" in line)
    assert "[whole, 1-byte, 2-byte, crlf, utf8, random-2, random-10]" in entry
    assert "came 0 ms" in entry and "(and 6 other message(s) in the results JSON)" in entry
    assert details.count("came ") == 1
