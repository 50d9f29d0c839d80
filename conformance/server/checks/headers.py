"""Status line and response headers: S-01, S-03, S-04, S-05, S-07."""

from __future__ import annotations

from ...results import Result
from ..registry import RESPONSE, STREAM, Context, broken, check, info, passed, shown

# Response headers that suggest a reverse proxy or CDN sits in front of the app (buffering).
PROXY_SIGNS = ("via", "x-cache", "x-served-by", "cf-ray", "x-amz-cf-id", "x-varnish", "fly-request-id",
               "x-vercel-id", "x-azure-ref", "x-forwarded-for", "x-forwarded-proto")
PROXY_SERVERS = ("nginx", "openresty", "cloudflare", "envoy", "haproxy", "varnish", "apache", "squid",
                 "caddy", "traefik", "awselb", "istio", "kong", "akamai")
# Connection-specific headers (RFC 9113 §8.2.2): malformed in HTTP/2, Safari drops the stream.
HOP_BY_HOP = ("connection", "keep-alive", "proxy-connection", "upgrade")


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


def _proxy_sign(ctx: Context) -> str | None:
    for name in PROXY_SIGNS:
        value = ctx.main.header(name)
        if value is not None:
            return f"{name}: {value}"
    server = (ctx.main.header("server") or "").lower()
    if any(word in server for word in PROXY_SERVERS):
        return f"server: {server}"
    return None


@check("S-04", needs=STREAM)
def no_buffering(ctx: Context) -> list[Result]:
    cap, results = ctx.main, []
    encoding = cap.header("content-encoding")
    if encoding and encoding.strip().lower() != "identity":
        results.append(broken(
            "S-04", f"the stream is compressed ({shown(encoding)}): compressors hold events back "
                    "until about 32 KiB or the end of the stream",
            expected="no Content-Encoding (the suite asked with Accept-Encoding: gzip)",
            actual=f"Content-Encoding: {shown(encoding)}",
            fix="Exclude text/event-stream from compression middleware (GZipMiddleware, nginx gzip), "
                "or flush the compressor after every event."))
    length = cap.header("content-length")
    if length is not None:
        results.append(broken(
            "S-04", "Content-Length on a stream: the whole body was buffered before sending",
            expected="no Content-Length (chunked or close-delimited)", actual=f"Content-Length: {length}",
            fix="Return a streaming response (a generator), not a string or list."))
    accel = (cap.header("x-accel-buffering") or "").strip().lower()
    sign = _proxy_sign(ctx)
    if accel != "no" and sign:
        results.append(broken(
            "S-04", "a proxy seems to be in front and X-Accel-Buffering: no is missing: "
                    "nginx buffers responses by default, so events arrive in batches",
            expected="X-Accel-Buffering: no", actual=f"{sign}; no X-Accel-Buffering",
            fix="Send X-Accel-Buffering: no, or set proxy_buffering off for this location."))
    if results:
        return results
    note = "X-Accel-Buffering: no" if accel == "no" else "no proxy in sight"
    return passed("S-04", f"not compressed, no Content-Length, {note}")


@check("S-05", needs=STREAM)
def no_hop_by_hop(ctx: Context) -> list[Result]:
    found = []
    for name in HOP_BY_HOP:
        value = ctx.main.header(name)
        if value is None:
            continue
        if name == "connection" and value.strip().lower() == "close" and ctx.main.http_version != "HTTP/2":
            continue  # the HTTP/1.1 server's own framing, never the app's
        found.append(f"{name}: {value}")
    if not found:
        return passed("S-05", f"no connection-specific headers ({ctx.main.http_version})")
    return [broken(
        "S-05", f"connection-specific header {shown(found[0])}: legal on HTTP/1.1, but malformed "
                "on HTTP/2, where Safari and strict clients drop the stream",
        expected="no Connection, Keep-Alive, Proxy-Connection or Upgrade header",
        actual="; ".join(shown(f) for f in found),
        fix="Do not set Connection: keep-alive yourself (sse-starlette, aiohttp-sse and Litestar do); "
            "let the HTTP server manage the connection.")]
