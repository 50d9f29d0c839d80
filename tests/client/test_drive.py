"""The one driver of Python client callables (worker process and in-process thread alike)."""

from __future__ import annotations

import pytest

from conformance.client.drive import Drive, Stop
from conformance.client.observation import Invocation, failure

EVENTS = [{"data": str(n)} for n in range(5)]


class Stream:
    """A client's iterator with the close and restart APIs the capabilities name."""

    def __init__(self) -> None:
        self.items = iter(EVENTS)
        self.closed = self.restarted = 0

    def __iter__(self):
        return self

    def __next__(self):
        return next(self.items)

    def close(self) -> None:
        self.closed += 1

    def restart(self) -> None:
        self.restarted += 1


class AsyncStream(Stream):
    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return next(self.items)
        except StopIteration:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        self.closed += 1


def _drive(stream: Stream, **inputs) -> tuple[list, Stream]:
    seen: list = []
    Drive(lambda url, **kw: stream, Invocation("http://x/", **inputs), "generic",
          lambda kind, value: seen.append((kind, value))).run()
    return seen, stream


@pytest.mark.parametrize("make", [Stream, AsyncStream], ids=["sync", "async"])
def test_every_item_is_reported_and_an_unasked_client_is_not_closed(make):
    seen, stream = _drive(make())
    assert seen == [("event", e) for e in EVENTS] and (stream.closed, stream.restarted) == (0, 0)


@pytest.mark.parametrize("make", [Stream, AsyncStream], ids=["sync", "async"])
def test_close_after_events_stops_and_closes_the_client(make):
    seen, stream = _drive(make(), close_after_events=2)
    assert [v for _, v in seen] == EVENTS[:2] and stream.closed == 1


@pytest.mark.parametrize("make", [Stream, AsyncStream], ids=["sync", "async"])
def test_restart_comes_once_right_after_the_nth_event(make):
    seen, stream = _drive(make(), restart_after_events=3)
    assert len(seen) == 5 and stream.restarted == 1


def test_stop_from_report_unwinds_and_closes_a_cancelled_client():
    stream = Stream()
    drive = Drive(lambda url: stream, Invocation("http://x/"), "generic", lambda kind, value: None)

    def report(kind, value):
        drive.cancel()
        raise Stop

    drive.report = report
    with pytest.raises(Stop):
        drive.run()
    assert stream.closed == 1


def test_the_openai_profile_reports_the_text():
    seen: list = []
    Drive(lambda url: "hello", Invocation("http://x/"), "openai", lambda k, v: seen.append((k, v))).run()
    assert seen == [("text", "hello")]


def test_a_generic_callable_returning_a_non_iterable_is_broken_not_raised():
    try:
        iter(42)  # what a callable returning an int leads to
    except TypeError as error:
        assert failure(error, "generic")[0] == "broken"
        assert failure(error, "openai")[0] == "raised"
    assert failure(ValueError("boom"), "generic") == ("raised", "ValueError: boom")


def test_inputs_round_trip_through_the_protocol_form():
    invocation = Invocation("http://x/", method="POST", headers={"A": "b"}, close_after_events=1,
                            restart_after_events=2, read_timeout_ms=50)
    back = Invocation.from_inputs("http://x/", {**invocation.inputs(), "unknown": 1})
    assert back == invocation


def test_only_events_count_towards_close_and_restart():
    stream = Stream()
    stream.items = iter([{"open": True}, {"comment": "hi"}, *EVENTS])
    seen, stream = _drive(stream, close_after_events=2)
    assert [v for _, v in seen] == [{"open": True}, {"comment": "hi"}, *EVENTS[:2]] and stream.closed == 1
