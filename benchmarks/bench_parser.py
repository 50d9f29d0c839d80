"""Parser throughput: our EventParser against httpx-sse's and sseclient-py's parsers.

Not a test: it prints a table and exits 1 when our parser does not beat every peer measured in
the same run (so a regression shows in CI logs), 0 otherwise. Run from the repo root:

    .venv/bin/python benchmarks/bench_parser.py [--events N] [--rounds R]

The stream is an OpenAI-style chat completion: N ``data: {~150-byte JSON}`` events, each followed
by a blank line, then ``data: [DONE]``. It is built in memory and fed in 64 KiB and in 1 KiB
chunks. Every parser gets the same chunk list, and the loop reads ``.data`` of every event it
yields, so each does the full work of a consumer. Runs of all parsers are interleaved round by
round, so a burst of machine noise hits them alike, and timed in process CPU time (not wall
time), so other jobs on a busy machine barely count; the table shows the best and the median run
and the ratios use the best runs.
"""

from __future__ import annotations

import argparse
import codecs
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from httpx_sse._decoders import SSEDecoder, SSELineDecoder
from sseclient import SSEClient

from conformance.sse import EventParser

Chunks = Sequence[bytes]
Run = Callable[[Chunks], tuple[int, int]]  # -> (events seen, characters of data read)

CHUNK_SIZES = (64 * 1024, 1024)
OURS = "conformance EventParser"


def build_stream(events: int) -> bytes:
    """OpenAI-style chunk events (~150-byte JSON each), then the ``[DONE]`` sentinel."""
    parts = []
    for i in range(events):
        chunk = {
            "id": "chatcmpl-A1b2",
            "object": "chat.completion.chunk",
            "created": 1718000000 + i // 50,
            "model": "gpt-4o",
            "choices": [{"index": 0, "delta": {"content": f" tok{i % 997}"}, "finish_reason": None}],
        }
        parts.append(b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n")
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


def split(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


# -- the parsers, each driven the way its own public loop drives it -------------------------


def run_ours(chunks: Chunks) -> tuple[int, int]:
    parser = EventParser()
    feed = parser.feed
    count = chars = 0
    for chunk in chunks:
        for event in feed(chunk):
            count += 1
            chars += len(event.data)
    parser.close()
    return count, chars


def run_httpx_sse(chunks: Chunks) -> tuple[int, int]:
    # What EventSource.iter_sse() does under httpx's iter_text(): an incremental UTF-8 decoder,
    # SSELineDecoder, then SSEDecoder per line (minus the HTTP response plumbing).
    text_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    lines = SSELineDecoder()
    decoder = SSEDecoder()
    count = chars = 0
    for chunk in chunks:
        for line in lines.decode(text_decoder.decode(chunk)):
            event = decoder.decode(line)
            if event is not None:
                count += 1
                chars += len(event.data)
    for line in lines.flush():
        event = decoder.decode(line)
        if event is not None:
            count += 1
            chars += len(event.data)
    return count, chars


def run_sseclient_py(chunks: Chunks) -> tuple[int, int]:
    count = chars = 0
    for event in SSEClient(iter(chunks), char_enc="utf-8").events():
        count += 1
        chars += len(event.data)
    return count, chars


def run_naive_split(chunks: Chunks) -> tuple[int, int]:
    """Not a parser: split on LF and count ``data: `` lines. A floor for scale, never gated."""
    count = chars = 0
    rest = b""
    for chunk in chunks:
        *lines, rest = (rest + chunk).split(b"\n")
        for line in lines:
            if line.startswith(b"data: "):
                count += 1
                chars += len(line) - 6
    return count, chars


PARSERS: dict[str, Run] = {
    OURS: run_ours,
    "httpx-sse 0.4 decoders": run_httpx_sse,
    "sseclient-py SSEClient.events()": run_sseclient_py,
}
BASELINE = "(naive bytes.split, no parsing)"
EVERYONE: dict[str, Run] = {**PARSERS, BASELINE: run_naive_split}


def time_once(run: Run, chunks: Chunks) -> tuple[float, tuple[int, int]]:
    """CPU seconds of one run: other jobs on a shared machine then cost us far less noise."""
    gc.collect()
    start = time.process_time()
    seen = run(chunks)
    return time.process_time() - start, seen


def measure(body: bytes, rounds: int) -> dict[tuple[str, int], list[float]]:
    """Interleave rounds: every (parser, chunk size) once per round, so noise hits all alike."""
    chunkings = {size: split(body, size) for size in CHUNK_SIZES}
    times: dict[tuple[str, int], list[float]] = {}
    expected: tuple[int, int] | None = None
    for _ in range(rounds):
        for size, chunks in chunkings.items():
            for name, run in EVERYONE.items():
                seconds, seen = time_once(run, chunks)
                if expected is None:
                    expected = seen
                if seen != expected and name != BASELINE:  # unfair: someone did not parse everything
                    sys.exit(f"{name} at {size} B chunks saw {seen}, expected {expected}")
                times.setdefault((name, size), []).append(seconds)
    return times


def report(times: dict[tuple[str, int], list[float]], events: int, nbytes: int) -> bool:
    """Print the table; return True when ours beats every peer at every chunk size (best runs)."""
    print(f"{events:,} events, {nbytes / 1e6:.1f} MB, {len(next(iter(times.values())))} rounds")
    header = (
        f"{'parser':34} {'chunk':>6} {'best ev/s':>11} {'median ev/s':>12} {'MB/s':>7} "
        f"{'ours is (best)':>15} {'(median)':>9}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for size in CHUNK_SIZES:
        ours, ours_median = min(times[(OURS, size)]), statistics.median(times[(OURS, size)])
        for name in EVERYONE:
            best, median = min(times[(name, size)]), statistics.median(times[(name, size)])
            ratios = "" if name == OURS else f"{best / ours:14.2f}x {median / ours_median:8.2f}x"
            if name in PARSERS and name != OURS and best <= ours:
                ok = False
            print(
                f"{name:34} {size // 1024:>4}Ki {events / best:>11,.0f} {events / median:>12,.0f} "
                f"{nbytes / best / 1e6:>7.1f} {ratios}"
            )
    return ok


def long_line(mib: int, rounds: int) -> None:
    """C-38: one ``mib`` MiB data line in 1 KiB chunks. Printed for scale, not gated: a parser
    that re-copies its partial line on every chunk is quadratic here."""
    body = b"data: " + b"x" * (mib << 20) + b"\n\n"
    chunks = split(body, 1024)
    print(f"\none {mib} MiB line in 1 KiB chunks (C-38), best of {rounds}:")
    for name, run in PARSERS.items():
        best = min(time_once(run, chunks)[0] for _ in range(rounds))
        print(f"  {name:34} {best:8.3f} s")


def main(argv: Sequence[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--events", type=int, default=200_000)
    args.add_argument("--rounds", type=int, default=5)
    args.add_argument("--long-line-mib", type=int, default=5, help="0 skips the long-line timing")
    options = args.parse_args(argv)
    body = build_stream(options.events)
    ok = report(measure(body, options.rounds), options.events + 1, len(body))
    if options.long_line_mib:
        long_line(options.long_line_mib, 2)
    print("ours beats every peer" if ok else "REGRESSION: a peer is as fast as ours or faster")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
