"""Field lines and what they dispatch: S-12, S-14, S-15, S-16, S-17, S-20, S-23, P-08."""

from __future__ import annotations

from ...results import Result
from ...sse import Line
from ..capture import End
from ..registry import STREAM, Context, broken, check, follows_s09, info, passed, shown

KNOWN_FIELDS = ("data", "event", "id", "retry")


def _field_lines(ctx: Context, name: str) -> list[Line]:
    return [line for block in ctx.stream.blocks for line in block.fields if line.name == name]


@check("S-12", needs=STREAM)
def space_after_colon(ctx: Context) -> list[Result]:
    fields = [line for block in ctx.stream.blocks for line in block.fields]
    tight = [line for line in fields if ":" in line.text and not line.text.startswith(line.name + ": ")]
    if not tight:
        return passed("S-12", f"{len(fields)} field lines, each written as 'field: value'")
    return info("S-12", f"{len(tight)} of {len(fields)} field lines have no space after the colon: "
                        "fine, unless a value starts with a space (clients remove one)",
                evidence=ctx.at(tight[0].offset))


@check("S-14", needs=STREAM)
def no_nul_in_id(ctx: Context) -> list[Result]:
    bad = [line for line in _field_lines(ctx, "id") if "\x00" in line.value]
    if not bad:
        return passed("S-14", "no U+0000 in any id")
    return [broken("S-14", f"{len(bad)} id fields contain U+0000: clients ignore the whole field, "
                           "so the last event ID silently stays at its old value (C-29)",
                   expected="an id without NUL", actual=shown(bad[0].text), evidence=ctx.at(bad[0].offset),
                   fix="Keep ids short and ASCII-safe; reject NUL when you mint them.")]


@check("S-15", needs=STREAM)
def retry_is_digits(ctx: Context) -> list[Result]:
    lines = _field_lines(ctx, "retry")
    bad = [line for line in lines if not (line.value.isascii() and line.value.isdigit())]
    if not bad:
        return passed("S-15", f"{len(lines)} retry fields, all ASCII digits")
    return [broken("S-15", f"retry value {shown(bad[0].value)} is not ASCII digits: clients ignore it (C-35)",
                   expected="retry: <milliseconds in ASCII digits>", actual=shown(bad[0].text),
                   evidence=ctx.at(bad[0].offset),
                   fix="Send retry as a non-negative integer in milliseconds (no sign, unit or decimals).")]


@check("S-16", needs=STREAM)
def blocks_dispatch(ctx: Context) -> list[Result]:
    lost = [b for b in ctx.stream.blocks
            if b.end is not None and "event" in b.names() and "data" not in b.names()]
    if not lost:
        return passed("S-16", "every block with an event type also has data")
    block = lost[0]
    return [broken("S-16", f"{len(lost)} blocks name an event type but have no data line: "
                           "clients dispatch nothing and the event is lost",
                   expected="a data: line in every event (data: alone for an empty payload)",
                   actual=shown(ctx.stream.body[block.offset:block.end.end]), evidence=ctx.at(block.offset),
                   fix="Emit an empty 'data:' line for events without a payload.")]


@check("S-17", needs=STREAM)
def known_field_names(ctx: Context) -> list[Result]:
    first: dict[str, Line] = {}
    for block in ctx.stream.blocks:
        for line in block.fields:
            if line.name not in KNOWN_FIELDS:
                first.setdefault(line.name, line)
    if not first:
        return passed("S-17", "only data, event, id and retry fields")
    return [_unknown(ctx, name, line) for name, line in list(first.items())[:5]]


def _unknown(ctx: Context, name: str, line: Line) -> Result:
    if name.lower() in KNOWN_FIELDS:
        why = f"{shown(name)}: is not {name.lower()}: (field names are case-sensitive), so clients ignore it"
        fix = f"Write the field name in lowercase: {name.lower()}:"
    else:
        why = f"unknown field {shown(name, 40)!r}: clients ignore the whole line"
        fix = "Use only data, event, id and retry; put anything else inside data (JSON) or a comment."
    return broken("S-17", why, expected="data, event, id or retry", actual=shown(line.text),
                  evidence=ctx.at(line.offset), fix=fix)


@check("S-20", needs=STREAM)
def ids_for_resume(ctx: Context) -> list[Result]:
    events = ctx.stream.events
    with_id = sum(1 for b in events if "id" in b.names())
    return info("S-20", f"{with_id} of {len(events)} events carry an id: clients can resume "
                        + ("after them (Last-Event-ID)" if with_id else "from none of them"))


# "No event" is a fact of a stream that ended; read up to --max-seconds, it rests on time.
@check("S-23", needs=STREAM, timed=lambda ctx: ctx.main.end is End.MAX_SECONDS)
def some_event(ctx: Context) -> list[Result]:
    count = len(ctx.stream.events)
    if count:
        return passed("S-23", f"{count} events received")
    end = ctx.main.end
    return [broken("S-23", f"no event received ({end.value} after {ctx.main.elapsed:.1f} s)",
                   expected="at least one event", actual=f"{len(ctx.stream.body)} body bytes, no event",
                   evidence=ctx.at(0) if ctx.stream.body else "(empty body)",
                   fix="Check the endpoint sends data: lines ended by a blank line, "
                       "and that nothing (compression, a proxy) holds them back.", **follows_s09(ctx))]


@check("P-08", needs=STREAM)
def event_type_is_trimmed(ctx: Context) -> list[Result]:
    lines = _field_lines(ctx, "event")
    padded = [line for line in lines if line.value != line.value.strip(" \t")]
    if not padded:
        return passed("P-08", f"{len(lines)} event types, none with leading or trailing whitespace")
    line = padded[0]
    return [broken("P-08", f"event type {line.value!r} has leading or trailing whitespace: clients keep it "
                           f"(C-25), so addEventListener({line.value.strip()!r}) never fires",
                   expected=f"event: {line.value.strip()}", actual=shown(line.raw),
                   evidence=ctx.at(line.offset),
                   fix="Trim the event name before writing it (one space after the colon is all clients "
                       "remove).")]
