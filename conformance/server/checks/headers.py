"""Status line and response headers: S-01, S-03, S-04, S-05, S-07, P-05."""

from __future__ import annotations

from ...results import Result
from ...sse import LineKind
from ..capture import End
from ..culprit import COMPRESS, LENGTH, diagnose
from ..registry import ANY, RESPONSE, STREAM, Context, broken, check, info, passed, shown, skipped
from .fields import KNOWN_FIELDS

# Connection-specific headers (RFC 9113 §8.2.2): malformed in HTTP/2, Safari drops the stream.
HOP_BY_HOP = ("connection", "keep-alive", "proxy-connection", "upgrade", "transfer-encoding")


def content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """(essence, parameters) of a Content-Type value; the essence is lowercase."""
    if not value:
        return "", {}
    essence, *params = value.split(";")
    parsed = {}
    for param in params:
        key, _, val = param.partition("=")
        parsed[key.strip().lower()] = val.strip().strip('"')
    return essence.strip().lower(), parsed


def not_a_stream(ctx: Context) -> str | None:
    """Why a response is no event stream at all (an HTML page, a JSON API), or None: its type is
    not text/event-stream, and no line of its body is a field the spec knows or a comment. S-01
    says so; read as fields, its lines would bury that under a warning per line of HTML."""
    essence = content_type(ctx.main.header("content-type"))[0] or "missing"
    if essence == "text/event-stream":  # first: every check asks, and this needs no line read
        return None
    if any(line.kind is LineKind.COMMENT or line.name in KNOWN_FIELDS for line in ctx.stream.lines):
        return None
    return f"Content-Type {essence} and no SSE line in the body: no stream to judge (S-01)"


@check("S-01")
def status_and_content_type(ctx: Context) -> list[Result]:
    cap = ctx.main
    ctype = cap.header("content-type")
    essence = content_type(ctype)[0]
    if cap.status == 204:
        return info("S-01", "204 No Content: asks clients to stop reconnecting (S-07); no stream to judge")
    results = []
    if cap.status != 200:
        results.append(broken(
            "S-01", f"status {cap.status} {shown(cap.reason)}: EventSource fails the connection and never "
                    "retries",
            expected="200", actual=f"{cap.status} {shown(cap.reason)}",
            evidence=ctx.at(0) if ctx.stream.body else "(empty body)",
            fix="Answer a stream with 200; answer 204 to stop a client on purpose."))
    if essence != "text/event-stream":
        results.append(broken(
            "S-01", f"Content-Type is {shown(ctype) if ctype else 'missing'}: browsers fail the connection",
            expected="text/event-stream", actual=shown(ctype or "(none)"),
            fix="Send Content-Type: text/event-stream (optionally ; charset=utf-8)."))
    return results or passed("S-01", f"200 with Content-Type {shown(ctype or '')}")


@check("P-05", needs=RESPONSE)
def charset_is_utf8(ctx: Context) -> list[Result]:
    ctype = ctx.main.header("content-type")
    charset = content_type(ctype)[1].get("charset")
    if charset is None or charset.lower() == "utf-8":
        return passed("P-05", f"charset {shown(charset) if charset else 'absent'}: the body is read as UTF-8")
    return [broken(
        "P-05", f"charset={shown(charset)}: the body is UTF-8 whatever it says, and Chromium "
                "rejects any charset but utf-8 (no events at all)",
        expected="no charset, or charset=utf-8", actual=shown(ctype or ""),
        fix="Drop the charset parameter or send charset=utf-8.")]


@check("S-07")
def no_content_stops(ctx: Context) -> list[Result]:
    if ctx.main.status == 204:
        return info("S-07", "204 No Content: clients stop and never reconnect (intended?)")
    return info("S-07", f"status {ctx.main.status}: clients reconnect when the body ends; "
                        "answer 204 to stop them for good")


@check("S-03", needs=STREAM)
def cache_control(ctx: Context) -> list[Result]:
    value = ctx.main.header("cache-control")
    directives = {d.strip().split("=")[0].lower() for d in (value or "").split(",")}
    if directives & {"no-cache", "no-store"}:
        return passed("S-03", f"Cache-Control: {shown(value or '')}")
    return [broken("S-03", "the stream may be stored or coalesced by a cache",
                   expected="Cache-Control: no-cache (or no-store)", actual=shown(value or "(none)"),
                   fix="Send Cache-Control: no-cache (aiohttp-sse) or no-store (sse-starlette).")]


# An unreadable encoding is a fact; Content-Length and compression are judged with the delivery
# measurements: a Content-Length on a body that arrived event by event is a note, not a finding.
@check("S-04", needs=STREAM, timed=lambda ctx: ctx.delivery.problem)
def no_buffering(ctx: Context) -> list[Result]:
    """Buffering and compression, as measured: a header only names who did what the wire shows."""
    cap, delivery, results, notes = ctx.main, ctx.delivery, [], []
    length = cap.header("content-length")
    if length is not None and _streamed(ctx):
        notes.append(f"Content-Length: {shown(length)}, yet the body arrived in {len(delivery.bursts)} "
                     "releases as it was written (measured), so nothing was collected first")
    elif length is not None:
        held = delivery.held_to_end
        when = f" after {held.start:.2f} s" if held is not None else ""
        results.append(broken(
            "S-04", f"the whole body came at once{when} with a Content-Length: it was collected before "
                    "sending, by the app or by a proxy in front of it",
            expected="no Content-Length (chunked or close-delimited), each event sent as written",
            actual=f"Content-Length: {shown(length)}; {delivery.evidence()}",
            fix=diagnose(cap, delivery, LENGTH).fix))
    encoding = (cap.header("content-encoding") or "identity").strip().lower()
    compressed = encoding != "identity"
    if cap.end is End.UNDECODABLE:
        results.append(broken(
            "S-04", f"the stream is compressed with {shown(encoding)}, which the request did not accept "
                    "(Accept-Encoding: gzip): clients cannot read it",
            expected="no Content-Encoding, or one the client asked for", actual=cap.detail,
            fix="Do not compress text/event-stream; never use an encoding the request did not accept."))
    elif compressed and delivery.problem and length is None:
        early = (f" after its first {delivery.early_bytes} bytes (the compressor's header) came at once"
                 if delivery.early_bytes else "")
        results.append(broken(
            "S-04", f"the stream is compressed ({shown(encoding)}) and events were held back{early} (see "
                    "S-06, P-02, P-06): the compressor waits for more data before it emits any",
            expected="each event flushed through the compressor, or no compression",
            actual=f"Content-Encoding: {shown(encoding)}; {delivery.evidence()}",
            fix=diagnose(cap, delivery, COMPRESS).fix))
    if results:
        return results
    how = (f"compressed ({shown(encoding)}) but flushed as written (measured)" if compressed
           else "not compressed")
    return passed("S-04", "; ".join([f"{how}, no Content-Length" if length is None else how, *notes]))


def _streamed(ctx: Context) -> bool:
    """Did the events arrive over several releases, not held to the end (measured)?"""
    delivery = ctx.delivery
    return delivery.held_to_end is None and sum(1 for b in delivery.bursts if b.events) >= 2


@check("S-05", needs=ANY)
def no_connection_headers_on_h2(ctx: Context) -> list[Result]:
    cap = ctx.main
    if H2_REFUSED in cap.detail:
        return [broken(
            "S-05", "the HTTP/2 response carries a connection-specific header, so HTTP/2 clients "
                    f"(httpx/h2, curl, Safari) reject the whole response: {shown(cap.detail, 160)}",
            expected="no Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding or Upgrade on HTTP/2",
            actual=shown(cap.detail, 160), fix=_H2_FIX)]
    if not cap.answered:
        return skipped("S-05", f"no response to judge ({cap.end.value})")
    if cap.http_version != "HTTP/2":
        seen = [f"{n}: {cap.header(n)}" for n in HOP_BY_HOP if cap.header(n) is not None]
        note = f" ({'; '.join(shown(s) for s in seen)} is the server's HTTP/1.1 framing)" if seen else ""
        return skipped("S-05", f"needs HTTP/2: the response was {cap.http_version}{note}; "
                               "run with --http2 (https) or --http2-prior-knowledge (h2c)")
    found = [f"{name}: {cap.header(name)}" for name in HOP_BY_HOP if cap.header(name) is not None]
    if not found:
        return passed("S-05", "no connection-specific headers on the HTTP/2 response")
    return [broken("S-05", f"connection-specific header {shown(found[0])} on an HTTP/2 response: "
                           "malformed (RFC 9113 §8.2.2), strict clients drop the stream",
                   expected="no Connection, Keep-Alive, Proxy-Connection or Upgrade header",
                   actual="; ".join(shown(f) for f in found), fix=_H2_FIX)]


# How h2 (under httpx) refuses such a response; the suite sees the refusal, not the headers.
H2_REFUSED = "Connection-specific header field present"
_H2_FIX = ("Do not set Connection or Keep-Alive yourself (sse-starlette, aiohttp-sse and Litestar do); "
           "let the HTTP server manage the connection, and only add such headers on HTTP/1.1.")
