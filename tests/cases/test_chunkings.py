"""Chunkings split honestly: lossless, where they claim, deterministic, no duplicates."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.cases import load_cases
from conformance.cases.chunkings import CHUNKING_NAMES, Chunking, chunking, chunkings_for, cut_points
from conformance.cases.model import Case, Connection, Send

SAMPLES = [
    b"",
    b"d",
    b"data: a\r\n\r\n",
    b"\xef\xbb\xbfdata: \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n\n",
    b"data: \xff\xfe\xe2\x82\n\n",
    bytes(range(256)),
]
NAMES = ["whole", "1-byte", "2-byte", "crlf", "utf8", "random-1", "random-2", "random-99"]


def _case(*runs: bytes) -> Case:
    conn = Connection(stream=tuple(Send(run) for run in runs))
    return Case(id="T-001", description="t", rules=("C-37",), level="must", spec="x", area="t",
                connections=(conn,))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("data", SAMPLES)
def test_chunks_join_back_to_the_input(name, data):
    chunks = Chunking(name).split(data)
    assert b"".join(chunks) == data
    assert all(chunks) or data == b""


@pytest.mark.parametrize("data", SAMPLES)
def test_fixed_sizes(data):
    assert all(len(c) == 1 for c in Chunking("1-byte").split(data) if data)
    assert all(len(c) <= 2 for c in Chunking("2-byte").split(data))
    assert Chunking("whole").split(data) == [data]


def test_crlf_cuts_around_every_terminator_byte():
    assert Chunking("crlf").split(b"data: a\r\ndata: b\rc\n\n") == [
        b"data: a", b"\r", b"\n", b"data: b", b"\r", b"c", b"\n", b"\n",
    ]


def _incomplete(chunk: bytes) -> bool:
    """True when chunk ends inside a multi-byte sequence (strict incremental decode pending)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    decoder.decode(chunk)
    return decoder.getstate()[0] != b""


def test_utf8_cuts_only_inside_sequences_and_inside_all_of_them():
    data = b"\xef\xbb\xbfdata: \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n\n"
    cuts = cut_points("utf8", data)
    assert cuts  # the BOM and every character are cut
    for cut in cuts:
        assert _incomplete(data[:cut]), cut
    # Every boundary inside a sequence is cut: 2 in the BOM, 1 + 2 + 3 in é € 😀.
    assert len(cuts) == 2 + 1 + 2 + 3


def test_utf8_on_ascii_is_dropped_as_a_duplicate_of_whole():
    names = [c.name for c in chunkings_for(_case(b"data: a\n\n"))]
    assert "utf8" not in names
    assert "whole" in names


def test_duplicates_removed_and_order_stable():
    chosen = chunkings_for(_case(b"ab"))
    keys = [c.case_cuts(_case(b"ab")) for c in chosen]
    assert len(keys) == len(set(keys))
    assert chosen[0].name == "whole"


def test_deterministic():
    data = bytes(range(200)) * 3
    first = [Chunking(n).split(data) for n in NAMES]
    assert first == [Chunking(n).split(data) for n in NAMES]
    assert Chunking("random-1").split(data) != Chunking("random-2").split(data)


def test_actions_are_never_merged_into_chunks():
    from conformance.cases.model import Sleep

    conn = Connection(stream=(Send(b"ab"), Sleep(5), Send(b"cd")))
    assert Chunking("whole").plan(conn) == [Send(b"ab"), Sleep(5), Send(b"cd")]


def test_case_restriction_is_honoured():
    case = _case(b"data: \xc3\xa9\n\n")
    restricted = Case(**{**case.__dict__, "chunkings": ("whole", "random")})
    names = [c.name for c in chunkings_for(restricted, seeds=(7,))]
    assert names == ["whole", "random-7"]


def test_lookup_rejects_unknown_names():
    assert chunking("random-5").name == "random-5"
    with pytest.raises(ValueError):
        chunking("3-byte")
    assert "random" in CHUNKING_NAMES


def test_every_corpus_case_has_a_whole_chunking():
    for case in load_cases():
        assert chunkings_for(case)[0].name == "whole" or "whole" not in (case.chunkings or ("whole",))


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=64), name=st.sampled_from(NAMES))
def test_any_bytes_split_losslessly_into_non_empty_chunks(data, name):
    chunks = Chunking(name).split(data)
    assert b"".join(chunks) == data
    assert all(chunks) or chunks == [b""]


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=24))
def test_utf8_cuts_every_character_boundary_inside_and_none_outside(text):
    data = text.encode("utf-8")
    inside = {start + k for start, ch in _offsets(text) for k in range(1, len(ch.encode("utf-8")))}
    assert set(cut_points("utf8", data)) == inside


def _offsets(text: str):
    offset = 0
    for ch in text:
        yield offset, ch
        offset += len(ch.encode("utf-8"))


@settings(max_examples=300, deadline=None)
@given(runs=st.lists(st.binary(max_size=24), max_size=4), name=st.sampled_from(NAMES))
def test_split_behaviours_are_derived_for_any_bytes_even_an_empty_body(runs, name):
    from conformance.cases.behaviours import SPLIT_BEHAVIOURS, split_behaviours

    assert split_behaviours(_case(*runs), name) <= SPLIT_BEHAVIOURS
