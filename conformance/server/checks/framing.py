"""Bytes and framing: S-02 (UTF-8, BOM), S-09 (blocks end with a blank line), S-10, S-11, S-13, S-21."""

from __future__ import annotations

from itertools import pairwise

from ...results import Outcome, Result
from ...sse import BOM, LineKind
from ..capture import End
from ..registry import STREAM, Context, broken, check, info, passed, shown
from ..stream import Block

# Fields that name one thing per block: seeing one twice means two blocks ran together.
SINGLE_FIELDS = ("event", "id")


@check("S-02", needs=STREAM)
def utf8_and_bom(ctx: Context) -> list[Result]:
    lines = ctx.stream.lines
    bad = next((line for line in lines if line.invalid_utf8_at is not None), None)
    results = []
    if bad is not None:
        results.append(broken(
            "S-02", f"invalid UTF-8 at byte {bad.invalid_utf8_at}: clients show U+FFFD instead",
            expected="UTF-8", actual=shown(ctx.stream.body[bad.invalid_utf8_at:bad.invalid_utf8_at + 4]),
            evidence=ctx.at(bad.invalid_utf8_at),
            fix="Encode every payload as UTF-8 (never Latin-1 or a platform default)."))
    late_bom = next((line for line in lines if line.raw.startswith(BOM)), None)
    if late_bom is not None:
        results.append(broken(
            "S-02", f"a BOM at byte {late_bom.offset}, after the start: clients read it as part of "
                    f"the field name, so the field {shown(late_bom.text[1:].partition(':')[0])} is lost",
            expected="a BOM only as the very first bytes", actual="⇔ at the start of a line",
            evidence=ctx.at(late_bom.offset),
            fix="Write the BOM once at most, before the first event (better: never)."))
    if results:
        return results
    bom = ("with a leading BOM (legal, but openai-python#3819 and a2a-python#1259 drop the first event)"
           if ctx.stream.bom else "no BOM")
    return passed("S-02", f"{len(ctx.stream.body)} bytes of valid UTF-8, {bom}")


@check("S-09", needs=STREAM)
def blocks_end_with_blank_line(ctx: Context) -> list[Result]:
    stream, end = ctx.stream, ctx.main.end
    results = [_run_together(ctx, block) for block in stream.blocks]
    results = [r for r in results if r is not None][:3]
    tail = stream.tail
    if end.limited or stream.truncated:
        if stream.no_blank_line:
            results.append(broken(
                "S-09", f"{len(stream.lines)} lines and not one blank line before the suite stopped "
                        f"({end.value}): clients never dispatch anything",
                expected="a blank line after every event", actual="no blank line",
                evidence=ctx.at(stream.blocks[0].offset), fix=_FIX))
    elif tail is not None and (tail.fields or not tail.lines[-1].terminator):
        lost = "an unterminated line" if not tail.lines[-1].terminator else "no blank line after it"
        results.append(broken(
            "S-09", f"the body ended inside an event ({lost}): clients discard it (C-33)",
            expected="the body ends with a blank line", actual=shown(stream.body[tail.offset:][-60:]),
            evidence=ctx.at(tail.offset), fix=_FIX))
    if results:
        return results
    where = f"the suite stopped at {end.value}" if end.limited else "the body ended on an event boundary"
    return passed("S-09", f"{len(stream.events)} events, each ended by a blank line; {where}")


_FIX = ("End every event with an empty line (\\n\\n after the last field), including the last one; "
        "never rely on closing the connection to deliver it.")


def _run_together(ctx: Context, block: Block) -> Result | None:
    seen: set[str] = set()
    for line in block.fields:
        if line.name in SINGLE_FIELDS and line.name in seen:
            return broken(
                "S-09", f"two {line.name!r} fields in one block: a blank line between two events "
                        "is missing, so clients merge them into one",
                expected="a blank line before the next event", actual=f"a second {line.name}: line",
                evidence=ctx.at(line.offset), fix=_FIX)
        seen.add(line.name)
    return None


@check("S-10", needs=STREAM)
def terminators(ctx: Context) -> list[Result]:
    counts = ctx.stream.terminators()
    text = ", ".join(f"{name} {n}" for name, n in counts.most_common()) or "no lines"
    mixed = "mixed (legal, but pick one)" if len(counts) > 1 else "one kind"
    return info("S-10", f"line terminators: {text}: {mixed}")


@check("S-11", needs=STREAM)
def no_bare_cr(ctx: Context) -> list[Result]:
    counts = ctx.stream.terminators()
    if not counts["CR"] or not (counts["LF"] or counts["CRLF"]):
        return passed("S-11", "no bare CR inside an LF or CRLF stream")
    first = next(line for line in ctx.stream.lines if line.terminator == "\r")
    return [Result(
        rule="S-11", outcome=Outcome.WARN,
        message=f"{counts['CR']} bare CR in a stream that otherwise uses LF/CRLF: this looks like a "
                "CR inside data that was not split, and clients end the line there",
        expected="data split into one data: line per line", actual="a bare ␍ inside a line",
        evidence=ctx.at(first.end - 1),
        fix="Split data on \\r\\n, \\r and \\n into separate data: lines (use a serializer, not f-strings).")]


@check("S-21", needs=STREAM)
def ends_cleanly(ctx: Context) -> list[Result]:
    cap = ctx.main
    if cap.end is End.ABORTED:
        body = ctx.stream.body
        return [broken(
            "S-21", f"the body did not end cleanly: {cap.detail}",
            expected="a clean end of body (last chunk, or close after a complete event)",
            actual=cap.detail, evidence=ctx.at(len(body)) if body else "(empty body)",
            fix="Finish the response normally (return from the generator) instead of raising or "
                "killing the connection; clients treat an abort as a network error.")]
    if cap.end.limited:
        return passed("S-21", f"no abort before the suite stopped reading ({cap.end.value})")
    comments = sum(1 for line in ctx.stream.lines if line.kind is LineKind.COMMENT)
    return passed("S-21", f"the body ended cleanly after {cap.elapsed:.2f} s ({comments} comments)")


# Lines whose text ends at the line break: a CR or LF inside them starts a new, bogus line.
SINGLE_LINE = (LineKind.COMMENT, "event", "id")


@check("S-13", needs=STREAM)
def single_line_fields(ctx: Context) -> list[Result]:
    """A colonless line right after an event, id or comment line is the tail of a value that held
    a line break (CR, LF or CRLF alike; data has S-11): no real field is written without a colon."""
    found = [(before, line) for before, line in pairwise(ctx.stream.lines)
             if _kind(before) in SINGLE_LINE and line.kind is LineKind.FIELD and ":" not in line.text]
    if not found:
        return passed("S-13", "no line break inside an event type, id or comment")
    before, line = found[0]
    return [broken("S-13", f"a line break inside {_kind_name(before)} text: the rest "
                           f"({shown(line.text, 40)!r}) became a line of its own, which clients read as "
                           "an unknown field",
                   expected="event, id and comment text on one line", actual=shown(before.raw + line.raw),
                   evidence=ctx.at(before.offset),
                   fix="Reject or escape CR and LF in event names, ids and comments (JSON-encode them) "
                       "before writing; only data may span lines, one data: line each.")]


def _kind(line) -> object:
    return LineKind.COMMENT if line.kind is LineKind.COMMENT else (line.name if line.kind is LineKind.FIELD
                                                                   else None)


def _kind_name(line) -> str:
    return "a comment's" if line.kind is LineKind.COMMENT else f"an {line.name}:"
