"""The OpenAI-compatible streaming profile: O-01..O-06 (what the openai SDKs rely on).

Error dialects are a table: each row says how to spot the dialect and whether the openai SDK
recognises it (it raises on a JSON object with a truthy ``error`` key, and nothing else).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...results import Outcome, Result
from ...sse import Line, LineKind
from ..registry import STREAM, Context, broken, check, passed, shown, skipped
from ..stream import Block

DONE = "[DONE]"
PROFILE = "openai"


@dataclass(frozen=True)
class Payload:
    block: Block
    data: str
    json: Any  # the parsed value, or _NOT_JSON


_NOT_JSON = object()


def payloads(ctx: Context) -> list[Payload]:
    out = []
    for block in ctx.stream.events:
        data = block.event.data
        try:
            value = json.loads(data)
        except ValueError:
            value = _NOT_JSON
        out.append(Payload(block, data, value))
    return out


def _done_index(items: list[Payload]) -> int | None:
    return next((i for i, p in enumerate(items) if p.data == DONE), None)


@check("O-01", needs=STREAM, profile=PROFILE)
def payloads_are_json(ctx: Context) -> list[Result]:
    items = [p for p in payloads(ctx) if p.data != DONE]
    bad = [p for p in items if not isinstance(p.json, dict)]
    if not bad:
        return passed("O-01", f"{len(items)} payloads, each a JSON object")
    first = bad[0]
    kind = "not JSON" if first.json is _NOT_JSON else f"JSON {type(first.json).__name__}, not an object"
    return [broken("O-01", f"{len(bad)} of {len(items)} payloads are not JSON objects; the first is {kind}: "
                           "the SDK's json.loads raises mid-stream",
                   expected="data: {...}", actual=shown(first.data), evidence=ctx.at(first.block.offset),
                   fix="Send each chunk as one JSON object per data: line (json.dumps, no Python repr).")]


@check("O-02", needs=STREAM, profile=PROFILE)
def ends_with_done(ctx: Context) -> list[Result]:
    if ctx.main.end.limited:
        return [Result(rule="O-02", outcome=Outcome.ERROR,
                       message=f"the suite stopped reading ({ctx.main.end.value}) before the stream ended; "
                               "raise --max-seconds/--max-events to judge [DONE]")]
    items = payloads(ctx)
    if items and items[-1].data == DONE:
        return passed("O-02", "the last payload is [DONE], ended by a blank line")
    if items and _is_error(items[-1]) and ctx.main.end.value == "clean":
        return passed("O-02", "the stream ended with an error payload instead of [DONE] (see O-05)")
    tail = ctx.stream.tail
    if tail is not None and any(line.name == "data" and line.value == DONE for line in tail.fields):
        return [broken("O-02", "data: [DONE] has no blank line after it: spec parsers discard it and wait",
                       expected="data: [DONE] then a blank line", actual=shown(ctx.stream.body[tail.offset:]),
                       evidence=ctx.at(tail.offset), fix="Write 'data: [DONE]\\n\\n'.")]
    last = shown(items[-1].data) if items else "(no event)"
    return [broken("O-02", "the stream ended without [DONE]: SDKs cannot tell a finished answer from "
                           "a dropped connection",
                   expected="data: [DONE] as the last event", actual=f"last payload: {last}",
                   evidence=ctx.at(items[-1].block.offset) if items else None,
                   fix="End every completion stream with 'data: [DONE]\\n\\n', also after an error.")]


@check("O-03", needs=STREAM, profile=PROFILE)
def nothing_after_done(ctx: Context) -> list[Result]:
    items = payloads(ctx)
    index = _done_index(items)
    if index is None:
        return skipped("O-03", "no [DONE] in the stream (see O-02)")
    done_end = items[index].block.end.end
    later = [line for block in ctx.stream.blocks if block.offset >= done_end for line in block.fields]
    if not later:
        return passed("O-03", "nothing but comments or blank lines after [DONE]")
    return [broken("O-03", "fields after [DONE]: SDKs stopped reading at [DONE], so this is lost",
                   expected="the end of the stream after data: [DONE]", actual=shown(later[0].text),
                   evidence=ctx.at(later[0].offset), fix="Stop writing after [DONE] and end the body.")]


def _is_error(p: Payload) -> bool:
    return any(row.spot(p) for row in DIALECTS)


@check("O-04", needs=STREAM, profile=PROFILE)
def chunk_shape(ctx: Context) -> list[Result]:
    items = [p for p in payloads(ctx) if isinstance(p.json, dict) and not _is_error(p)]
    bad = [p for p in items if p.json.get("object") != "chat.completion.chunk"
           or not isinstance(p.json.get("choices"), list)]
    if not bad:
        return passed("O-04", f"{len(items)} chunks with object chat.completion.chunk and a choices list")
    return [broken("O-04", f"{len(bad)} of {len(items)} chunks lack the chat.completion.chunk shape",
                   expected='{"object": "chat.completion.chunk", "choices": [...], ...}',
                   actual=shown(bad[0].data), evidence=ctx.at(bad[0].block.offset),
                   fix="Send object: chat.completion.chunk with a choices list (empty for a usage chunk).")]


@dataclass(frozen=True)
class Dialect:
    name: str
    spot: Callable[[Payload], bool]
    recognised: bool  # does the openai SDK raise on it?


def _obj(p: Payload) -> dict:
    return p.json if isinstance(p.json, dict) else {}


DIALECTS = (
    Dialect("Anthropic (event: error)", lambda p: p.block.event.event == "error"
            and _obj(p).get("type") == "error" and bool(_obj(p).get("error")), True),
    Dialect("OpenAI ({\"error\": {...}})", lambda p: bool(_obj(p).get("error")), True),
    Dialect("vLLM (top-level object: error)", lambda p: _obj(p).get("object") == "error", False),
    Dialect("event: error without an error object", lambda p: p.block.event.event == "error", False),
)


@check("O-05", needs=STREAM, profile=PROFILE)
def error_payloads(ctx: Context) -> list[Result]:
    field = next((line for b in ctx.stream.blocks for line in b.fields if line.name == "error"), None)
    if field is not None:
        return [broken("O-05", "an error sent as an 'error:' field (old llama.cpp): clients ignore "
                               "unknown fields, so the error is silently lost",
                       expected='data: {"error": {"message": ...}}', actual=shown(field.text),
                       evidence=ctx.at(field.offset), fix=_FIX)]
    items = payloads(ctx)
    found = next(((i, row) for i, p in enumerate(items) for row in DIALECTS if row.spot(p)), None)
    if found is None:
        return skipped("O-05", "no error payload in this stream (nothing to judge)")
    index, dialect = found
    error = items[index]
    if not dialect.recognised:
        return [broken("O-05", f"error payload in the {dialect.name} dialect: the openai SDK does not "
                               "recognise it and reads it as a chunk",
                       expected='data: {"error": {"message": ...}}', actual=shown(error.data),
                       evidence=ctx.at(error.block.offset), fix=_FIX)]
    after = [p for p in items[index + 1:] if p.data != DONE]
    if after or ctx.main.end.value != "clean":
        what = f"{len(after)} more chunks" if after else f"the body ended {ctx.main.end.value}"
        return [broken("O-05", f"an error payload ({dialect.name}) was followed by {what}",
                       expected="the error, optionally [DONE], then a clean end",
                       actual=shown(after[0].data) if after else ctx.main.detail,
                       evidence=ctx.at(error.block.offset), fix=_FIX)]
    return passed("O-05", f"error payload ({dialect.name}) at byte {error.block.offset}, "
                          "then a clean end")


_FIX = ('Send errors as data: {"error": {"message": ..., "type": ...}}, then data: [DONE] or end the body; '
        "send nothing else after an error.")


@check("O-06", needs=STREAM, profile=PROFILE)
def sdk_safe_blocks(ctx: Context) -> list[Result]:
    found = _sdk_crash(ctx.stream.lines)
    if found is None:
        return passed("O-06", "no meta-only blocks, and no keep-alive or extra blank line after an id")
    offset, end, what = found
    return [broken("O-06", f"{what}: openai-python yields it as an event with empty data and crashes "
                           "with JSONDecodeError (openai/openai-python#2722, #3833)",
                   expected="every block carries data", actual=shown(ctx.stream.body[offset:end]),
                   evidence=ctx.at(offset),
                   fix="Do not send id: or retry: on an OpenAI-compatible stream (its decoder keeps the "
                       "id and then emits every later blank line as an event).")]


def _sdk_crash(lines: list[Line]) -> tuple[int, int, str] | None:
    """Where the openai-python decoder would emit an event without data: (start, end, why).

    It emits on a blank line whenever event, data, retry or its never-reset last id is set."""
    id_seen, pending = False, []
    for line in lines:
        if line.kind is not LineKind.BLANK:
            pending.append(line)
            continue
        names = {p.name for p in pending if p.kind is LineKind.FIELD}
        start = pending[0].offset if pending else line.offset
        if names and "data" not in names:
            return start, line.end, f"a block with {', '.join(sorted(names))} but no data (meta-only)"
        if not names and id_seen:
            what = "a comment keep-alive" if pending else "an extra blank line"
            return start, line.end, f"{what} after an id: field was sent"
        id_seen = id_seen or "id" in names
        pending = []
    return None
