"""Who held the events, from evidence: the component a header names, the mechanism the wire shows,
and that component's fix for that mechanism.

Identity comes from Server, Via, X-Varnish and X-Powered-By; HAProxy sends none of them and shows
only by its behaviour (the 200 ms cork, ``Pattern.CORK``). A component named in the headers is
blamed only for a mechanism it has (lighttpd collects a body, it does not compress it); when
nothing names one, the fix says what the mechanism is and where it usually comes from, never a
list of guesses headed by one framework.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..display import visible
from .capture import Capture
from .timing import Delivery, Pattern

__all__ = ["Component", "Diagnosis", "diagnose", "identify"]

# Mechanisms (what the wire showed), beyond the timing patterns.
LENGTH = "length"  # the whole body sent at once with a Content-Length
COMPRESS = "compress"  # a compressor held the events (its header may have come early)
BUFFER = "buffer"  # a buffer released the events in batches (cut, threshold) or at the end
CORK = "cork"  # a fixed ~200 ms hold before each release


@dataclass(frozen=True)
class Component:
    name: str
    markers: tuple[tuple[str, str], ...]  # (header, lowercase word in its value)
    fixes: dict[str, str]  # mechanism -> this component's fix
    role: str = "is in front"  # how it stands to the stream: a proxy, or the app's own stack


_NGINX_BUFFER = ("set proxy_buffering off for this location (or have the app send X-Accel-Buffering: "
                 "no); nginx's proxy buffer releases 4-8 KiB at a time")
COMPONENTS = (
    Component("lighttpd", (("server", "lighttpd"),), {
        LENGTH: "set server.stream-response-body = 2 (lighttpd's default 0 collects the whole response "
                "and sends it with a Content-Length)",
        BUFFER: "set server.stream-response-body = 2",
        COMPRESS: "exclude text/event-stream from mod_deflate (deflate.mimetypes)"}),
    Component("Varnish", (("via", "varnish"), ("x-varnish", ""), ("server", "varnish")), {
        LENGTH: "set beresp.do_stream = true in vcl_backend_response and return (pass) for the stream "
                "in vcl_recv (with do_stream off Varnish fetches the whole body before sending any)",
        BUFFER: "set beresp.do_stream = true and return (pass) (or (pipe)) for the stream",
        COMPRESS: "do not gzip the stream in VCL (set beresp.do_gzip = false)"}),
    Component("nginx", (("server", "nginx"), ("via", "nginx"), ("server", "openresty")), {
        BUFFER: _NGINX_BUFFER, LENGTH: _NGINX_BUFFER,
        COMPRESS: "set proxy_buffering off (nginx 1.22 gzip then flushes with each upstream read; with "
                  "buffering on it held all 25 events of a 2.5 s stream to the end), or remove "
                  "text/event-stream from gzip_types"}),
    Component("Apache httpd", (("server", "apache"), ("via", "apache")), {
        BUFFER: "add flushpackets=on to the ProxyPass line (mod_proxy_http passes 8 KiB at a time when "
                "the origin is fast)",
        LENGTH: "add flushpackets=on to the ProxyPass line",
        COMPRESS: "exclude the stream from mod_deflate: SetEnvIfNoCase Content-Type ^text/event-stream "
                  "no-gzip"}),
    Component("Caddy", (("server", "caddy"), ("via", "caddy")), {
        BUFFER: "set flush_interval -1 in the reverse_proxy block", LENGTH: "set flush_interval -1",
        COMPRESS: "leave text/event-stream out of the encode directive's match"}),
    Component("HAProxy", (("server", "haproxy"), ("via", "haproxy")), {
        CORK: "add option http-no-delay to the backend (without it HAProxy sends with MSG_MORE and the "
              "kernel holds each segment up to 200 ms)",
        BUFFER: "add option http-no-delay and do not enable compression or http-buffer-request here",
        COMPRESS: "remove compression for text/event-stream (compression type)"}),
    Component("Envoy", (("server", "envoy"), ("via", "envoy")), {
        BUFFER: "disable buffer filters for text/event-stream routes",
        COMPRESS: "disable the compressor filter for text/event-stream routes"}),
    Component("Traefik", (("server", "traefik"), ("via", "traefik")), {
        COMPRESS: "disable the compress middleware for this route"}),
    Component("Cloudflare", (("server", "cloudflare"),), {
        BUFFER: "send Cache-Control: no-cache and Content-Type: text/event-stream so the edge streams",
        COMPRESS: "turn compression off for the stream"}),
    Component("PHP", (("x-powered-by", "php"),), {
        BUFFER: "set output_buffering = Off (php.ini, or php -d output_buffering=0), or call "
                "ob_flush(); flush(); after every event",
        LENGTH: "set output_buffering = Off and flush() after every event"}, "runs the app"),
    Component("Express compression()", (("x-powered-by", "express"),), {
        COMPRESS: "call res.flush() after every res.write() (compression() adds it), or skip "
                  "compression for text/event-stream with its filter option"}, "runs the app"),
)
HAPROXY = next(c for c in COMPONENTS if c.name == "HAProxy")

# What to do when no header names a component that has the mechanism.
GENERIC = {
    LENGTH: "return a streaming response (a generator) instead of a finished body; if a proxy in front "
            "collects it, switch off that proxy's response buffering",
    COMPRESS: "exclude text/event-stream from the compressor (Starlette's GZipMiddleware, Express "
              "compression(), a proxy's gzip), or flush it after every event",
    BUFFER: "flush after every event, and switch off response buffering in whatever sits in front "
            "(an output buffer, a proxy's buffer)",
    CORK: "send each event as it is written: a proxy that corks writes (HAProxy: option http-no-delay)",
}
@dataclass(frozen=True)
class Diagnosis:
    mechanism: str
    component: Component | None
    seen: str  # the header that named it, or the behaviour

    @property
    def fix(self) -> str:
        if self.component is not None:
            component = self.component
            return f"{component.name} {component.role} ({self.seen}): {component.fixes[self.mechanism]}."
        return GENERIC[self.mechanism][0].upper() + GENERIC[self.mechanism][1:] + "."


def identify(cap: Capture, mechanism: str) -> tuple[Component, str] | None:
    """The first component the headers name that has ``mechanism``, with the header that named it."""
    for component in COMPONENTS:
        if mechanism not in component.fixes:
            continue
        for header, word in component.markers:
            value = cap.header(header)
            if value is not None and word in value.lower():
                return component, f"{header}: {visible(value, limit=80)}"  # a peer's bytes: escaped
    return None


def mechanism_of(cap: Capture, delivery: Delivery) -> str:
    """What held the events, from the wire: a cork, a Content-Length, a compressor, or a buffer."""
    if delivery.pattern is Pattern.CORK:
        return CORK
    if cap.header("content-length") is not None and delivery.pattern is Pattern.HELD:
        return LENGTH
    if (cap.header("content-encoding") or "identity").strip().lower() != "identity":
        return COMPRESS
    return BUFFER


def diagnose(cap: Capture, delivery: Delivery, mechanism: str | None = None) -> Diagnosis:
    """The component and fix for what the measurements showed (``mechanism`` overrides)."""
    mechanism = mechanism or mechanism_of(cap, delivery)
    named = identify(cap, mechanism)
    if named is not None:
        return Diagnosis(mechanism, *named)
    if mechanism == CORK:
        return Diagnosis(CORK, HAPROXY, "no Server header, and a steady 0.2-0.35 s hold before each "
                                        "release, as HAProxy's MSG_MORE gives")
    return Diagnosis(mechanism, None, "")
