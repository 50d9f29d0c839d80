"""Per-chunk cost of a chat stream against the size of its request (issue 12).

Not a test: it prints one line per request size and exits 1 when a chunk of the largest
request costs more than ``--tolerance`` times a chunk of the smallest (0 otherwise). Run from
the repo root:

    .venv/bin/python benchmarks/bench_chat_chunks.py [--chunks 2000] [--tolerance 2]

Each request is a conversation ending in a user message of ``--chunks`` words (4 KB for 2,000),
so every size streams the same reply, with history making it up to 60 KB or 585 KB (the issue's
size).
Two measurements per size: the scenario alone (``scenarios.chat_completion`` with no pause,
CPU seconds per chunk: the server's own work) and the whole HTTP path (a POST to
``/v1/chat/completions`` on the aiohttp and FastAPI reference servers, wall time from the
first chunk to ``[DONE]`` per chunk). Before the fix a 585 KB request cost 5.4 ms per chunk,
as every chunk re-serialised and hashed the whole conversation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import httpx

import reference_servers
from reference_servers import scenarios
from reference_servers.chat import ChatRequest

SIZES = (1_000, 60_000, 585_000)  # the last is the slow request


def conversation(size: int, words: int) -> dict:
    """A chat body of about ``size`` bytes (at least its last message) whose reply is ``words``
    + 2 tokens."""
    last = {"role": "user", "content": " ".join(["w"] * words)}
    turn = {"role": "user", "content": "history " * 120}  # ~1 KB per turn with its JSON
    history = [turn] * max(0, (size - len(json.dumps(last))) // len(json.dumps(turn)))
    return {"messages": [*history, last], "interval": 0}


def scenario_cost(body: dict) -> tuple[int, float]:
    """(chunks, CPU seconds per chunk) of the scenario alone."""
    async def drain() -> int:
        return sum([1 async for _ in scenarios.chat_completion(ChatRequest.from_body(body), 0)])

    started = time.process_time()
    chunks = asyncio.run(drain())
    return chunks, (time.process_time() - started) / chunks


def http_cost(base: str, body: dict) -> tuple[int, float]:
    """(chunks, wall seconds per chunk from the first chunk to the end) over HTTP."""
    chunks, first = 0, 0.0
    with httpx.stream("POST", base + "/v1/chat/completions", json=body, timeout=300) as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                chunks += 1
                first = first or time.perf_counter()
    return chunks, (time.perf_counter() - first) / max(1, chunks - 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2000, help="words in the reply (default 2000)")
    parser.add_argument("--tolerance", type=float, default=2.0,
                        help="largest allowed per-chunk cost ratio, 585 KB over 1 KB (default 2)")
    args = parser.parse_args(argv)
    bodies = {size: conversation(size, args.chunks) for size in SIZES}
    wire = {size: len(json.dumps(body)) // 1000 for size, body in bodies.items()}
    rows: dict[str, dict[int, float]] = {"scenario": {}}
    for size, body in bodies.items():
        rows["scenario"][size] = scenario_cost(body)[1]
    for kind in reference_servers.KINDS:
        with reference_servers.running(kind, heartbeat=0) as base:
            http_cost(base, bodies[SIZES[0]])  # warm up the server and the client
            rows[f"http {kind}"] = {size: http_cost(base, body)[1] for size, body in bodies.items()}
    worst = 0.0
    for name, costs in rows.items():
        ratio = costs[SIZES[-1]] / costs[SIZES[0]]
        worst = max(worst, ratio)
        cells = "  ".join(f"{wire[size]:>4} KB {costs[size] * 1e6:8.1f} us/chunk" for size in SIZES)
        print(f"{name:<13} {cells}  largest/smallest {ratio:4.2f}")
    print(f"each request streams {args.chunks + 5} chunks; sizes are the JSON body on the wire")
    verdict = worst <= args.tolerance
    word = "ok" if verdict else "FAIL"
    print(f"{word}: worst per-chunk cost ratio {worst:.2f} (tolerance {args.tolerance})")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
