"""Real-world pitfalls a URL can be checked for: P-01 (HEAD hangs), P-03 (heartbeat events)."""

from __future__ import annotations

from ...results import Result
from ..capture import End
from ..registry import STREAM, Context, broken, check, passed, shown, skipped

HEAD_SECONDS = 3.0
HEARTBEAT_TYPES = ("keep-alive", "keepalive", "ping", "heartbeat", "heart-beat", "hb")


@check("P-01")
def head_returns(ctx: Context) -> list[Result]:
    head = ctx.head
    if head is None:
        return skipped("P-01", f"HEAD is only tried for GET streams (method {ctx.options.method})")
    if head.end is End.NO_RESPONSE:
        return [broken("P-01", f"HEAD got no response within {head.request.timeout:g} s: "
                               "a streaming HEAD that never completes hangs monitors and proxies",
                       expected="headers only, at once", actual=head.detail,
                       fix="Answer HEAD with the headers and no body (sse-starlette >= 3.x does, #218).")]
    if head.end is End.FAILED:
        return [broken("P-01", f"HEAD failed: {head.detail}", expected="a HEAD response",
                       actual=head.detail, fix="Answer HEAD with the headers and no body, or with 405.")]
    return passed("P-01", f"HEAD answered {head.status} after {head.elapsed * 1000:.0f} ms")


@check("P-03", needs=STREAM)
def heartbeats_are_comments(ctx: Context) -> list[Result]:
    beats = [b for b in ctx.stream.events if b.event.event.lower() in HEARTBEAT_TYPES]
    if not beats:
        return passed("P-03", "no heartbeat sent as an event")
    return [broken("P-03", f"{len(beats)} heartbeats are real events ({shown(beats[0].event.event)!r}): "
                           "every client sees them as messages, and they reset nothing a comment would not",
                   expected="a comment line (: ping) followed by a blank line",
                   actual=shown(ctx.stream.body[beats[0].offset:beats[0].end.end]),
                   evidence=ctx.at(beats[0].offset),
                   fix="Send heartbeats as comments: ': ping\\n\\n'.")]
