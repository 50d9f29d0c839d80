"""The delivery patterns, from releases built byte by byte (no server, no clock): each pattern
is found on the bytes that show it and not on the ones that do not."""

from __future__ import annotations

from conformance.server.capture import Capture, End, Request
from conformance.server.stream import analyse
from conformance.server.timing import Pattern, measure


def event(i: int, size: int = 30) -> bytes:
    head = b"id: %d\ndata: " % i
    return head + b"x" * max(1, size - len(head) - 2) + b"\n\n"


def delivered(releases: list[tuple[float, bytes]], *, headers: float = 0.0, end: End = End.CLEAN):
    """A capture whose body came in ``releases`` (time, bytes), each one wire read."""
    cap = Capture(Request("GET", "http://127.0.0.1:1/"), status=200, t_headers=headers, end=end)
    for at, data in releases:
        cap.raw_arrivals.append((at, cap.raw_size))
        cap.arrivals.append((at, len(cap.body)))
        cap.raw_size += len(data)
        cap.body += data
    return measure(cap, analyse(cap))


def groups(per: int, every: float, count: int, size: int = 30, start: float = 0.0) -> list:
    return [(start + k * every, b"".join(event(k * per + j, size) for j in range(per))) for k in range(count)]


def test_events_written_one_by_one_make_no_pattern():
    delivery = delivered(groups(1, 0.2, 10))
    assert delivery.pattern is Pattern.NONE and delivery.held_share == 0.1


def test_an_early_comment_before_held_events_is_held_to_the_end():
    delivery = delivered([(0.0, b": connected\n\n"), (1.5, b"".join(event(i) for i in range(5)))])
    assert delivery.pattern is Pattern.HELD and delivery.held_share == 1.0
    assert delivery.early_bytes == delivery.early_decoded == 13


def test_one_late_event_is_not_called_held():
    delivery = delivered([(0.0, b": connected\n\n"), (1.5, event(1))])
    assert delivery.pattern is Pattern.NONE


def test_held_needs_the_final_release_to_end_the_body():
    delivery = delivered([(1.5, b"".join(event(i) for i in range(5)))], end=End.MAX_SECONDS)
    assert delivery.pattern is Pattern.NONE and delivery.final is None


def test_releases_just_past_a_buffer_size_are_an_output_buffer():
    delivery = delivered(groups(3, 0.45, 6, size=1400), headers=0.3)  # 4200 bytes each: PHP's 4096
    assert delivery.pattern is Pattern.THRESHOLD and delivery.buffer_size == 4096


def test_releases_at_no_buffer_size_are_grouped_not_a_buffer():
    delivery = delivered(groups(2, 0.45, 6, size=1400))  # 2800 bytes each: no buffer of ours
    assert delivery.pattern is Pattern.GROUPED and delivery.buffer_size is None


def test_a_steady_fifth_of_a_second_hold_with_held_headers_is_a_cork():
    delivery = delivered(groups(3, 0.3, 8, start=0.2), headers=0.2)
    assert delivery.pattern is Pattern.CORK


def test_the_same_rhythm_with_headers_at_once_is_grouped():
    delivery = delivered(groups(3, 0.3, 8, start=0.2), headers=0.0)
    assert delivery.pattern is Pattern.GROUPED


def test_a_few_grouped_releases_among_single_events_make_no_pattern():
    releases = groups(1, 0.2, 10) + groups(2, 0.2, 2, start=2.0)  # a late reader merged two reads
    delivery = delivered(sorted(releases, key=lambda r: r[0]))
    assert delivery.pattern is Pattern.NONE


def test_headers_held_with_a_body_held_to_its_end_are_held():
    delivery = delivered([(1.5, b"".join(event(i) for i in range(5)))], headers=1.5)
    assert delivery.pattern is Pattern.HELD and delivery.headers_held == 1.5


def test_headers_sent_at_once_before_a_held_body_are_not_held():
    delivery = delivered([(1.5, b"".join(event(i) for i in range(5)))], headers=0.01)
    assert delivery.pattern is Pattern.HELD and delivery.headers_held is None
