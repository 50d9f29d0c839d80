"""Chunkings: the ways every case's byte runs are re-split before the case server sends them.

A byte run is the bytes of consecutive ``text``/``hex`` steps of one connection; actions
(sleep, close, abort, hold_open) are never merged into a chunk, so chunkings only ever add
boundaries. The case server writes each chunk on its own and the next only once the client has read it
(``conformance.client.delivery``), so the client's reads see exactly this split.

Names: ``whole``, ``1-byte``, ``2-byte``, ``crlf`` (a boundary before and after every CR and
LF byte), ``utf8`` (a boundary inside every multi-byte UTF-8 sequence, the BOM included) and
``random-SEED`` (seeded random cuts; the seed is in the name so a failure replays). A chunking
that splits a case exactly like an earlier one is dropped, so the matrix has no duplicates.
Everything here is deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .model import Case, Connection, Send, Step

__all__ = [
    "CHUNKING_NAMES",
    "DEFAULT_SEEDS",
    "Chunking",
    "chunking",
    "chunkings_for",
    "cut_points",
    "split_at",
]

DEFAULT_SEEDS: tuple[int, ...] = (1, 2, 3)
MAX_RANDOM_CUTS = 16


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """Split ``data`` before each offset in ``cuts`` (offsets 0 and len(data) are ignored)."""
    pieces, start = [], 0
    for cut in sorted(set(cuts)):
        if 0 < cut < len(data):
            pieces.append(data[start:cut])
            start = cut
    pieces.append(data[start:])
    return pieces


def _fixed(size: int) -> Callable[[bytes], list[int]]:
    return lambda data: list(range(size, len(data), size))


def _crlf(data: bytes) -> list[int]:
    return [cut for i, byte in enumerate(data) if byte in b"\r\n" for cut in (i, i + 1)]


def _utf8(data: bytes) -> list[int]:
    # A continuation byte right after a non-ASCII byte is inside a multi-byte sequence (the BOM
    # EF BB BF included); cutting before it leaves the decoder with an incomplete sequence.
    return [i for i in range(1, len(data)) if 0x80 <= data[i] <= 0xBF and data[i - 1] >= 0x80]


def _random(seed: int) -> Callable[[bytes], list[int]]:
    def cuts(data: bytes) -> list[int]:
        # Seeded by the seed and the run itself, so each run's split is independent of others.
        rng = random.Random(f"{seed}:{len(data)}:{data[:64]!r}")
        if len(data) < 2:
            return []
        count = rng.randint(1, min(len(data) - 1, MAX_RANDOM_CUTS))
        return rng.sample(range(1, len(data)), count)

    return cuts


_CUTTERS: dict[str, Callable[[bytes], list[int]]] = {
    "whole": lambda data: [],
    "1-byte": _fixed(1),
    "2-byte": _fixed(2),
    "crlf": _crlf,
    "utf8": _utf8,
}

CHUNKING_NAMES: tuple[str, ...] = (*_CUTTERS, "random")
"""The chunking families; ``random`` stands for every ``random-SEED``."""


def cut_points(name: str, data: bytes) -> list[int]:
    """Where chunking ``name`` cuts ``data`` (sorted offsets strictly inside it)."""
    cutter = _random(int(name.removeprefix("random-"))) if name.startswith("random-") else _CUTTERS[name]
    return sorted({cut for cut in cutter(data) if 0 < cut < len(data)})


@dataclass(frozen=True)
class Chunking:
    """A named way to split byte runs; ``split(run)`` returns the chunks, in order."""

    name: str

    @property
    def family(self) -> str:
        return "random" if self.name.startswith("random-") else self.name

    def split(self, data: bytes) -> list[bytes]:
        return split_at(data, cut_points(self.name, data))

    def plan(self, connection: Connection) -> list[Step]:
        """The connection's steps with each byte run replaced by one Send per chunk."""
        steps: list[Step] = []
        for run in connection.runs():
            if isinstance(run, bytes):
                steps.extend(Send(chunk) for chunk in self.split(run) if chunk)
            else:
                steps.append(run)
        return steps

    def chunks(self, connection: Connection) -> list[bytes]:
        """The bytes of each write :meth:`plan` makes, in order (the actions left out)."""
        return [step.data for step in self.plan(connection) if isinstance(step, Send)]

    def case_cuts(self, case: Case) -> tuple[tuple[tuple[int, ...], ...], ...]:
        """Where this chunking cuts every byte run of every connection (the dedupe key: two
        chunkings with the same cuts split the case alike; offsets, so no byte is copied)."""
        return tuple(
            tuple(tuple(cut_points(self.name, run)) for run in conn.byte_runs()) for conn in case.connections
        )


def chunking(name: str) -> Chunking:
    """Look up one chunking by its full name (``random-7`` included); bad names raise."""
    if name not in _CUTTERS and not (name.startswith("random-") and name[7:].isdigit()):
        raise ValueError(f"unknown chunking {name!r}; known: {', '.join(CHUNKING_NAMES)}")
    return Chunking(name)


def chunkings_for(case: Case, seeds: Iterable[int] = DEFAULT_SEEDS) -> list[Chunking]:
    """The chunkings to run ``case`` under: its allowed families, without duplicate splits."""
    allowed = set(case.chunkings) if case.chunkings is not None else set(CHUNKING_NAMES)
    names = [name for name in _CUTTERS if name in allowed]
    if "random" in allowed:
        names += [f"random-{seed}" for seed in seeds]
    chosen: list[Chunking] = []
    seen: set[tuple] = set()
    for name in names:
        candidate = Chunking(name)
        key = candidate.case_cuts(case)
        if key not in seen:
            seen.add(key)
            chosen.append(candidate)
    return chosen
