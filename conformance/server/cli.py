"""``sse-conformance server URL``: curl-like request options, h2spec-like output, CI exit codes.

Exit 0 when every MUST rule holds (with ``--strict``: every SHOULD too), 1 when one fails or the
suite could not judge, 2 for usage errors and URLs that cannot be reached at all (refused, DNS,
untrusted certificate), raised as ``errors.UsageError``: one line, no traceback.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import UsageError
from ..gates import add_gate_options, gate_from_args
from ..ids import server_and_client_ids
from ..outputs import add_output_options, check_report_paths, human_stream, write_reports
from ..results import timed
from .options import DEFAULTS, PROFILES, parse_header
from .output import render
from .runner import run_server_suite
from .trace import render_trace

__all__ = ["configure", "run"]


def _positive(kind: type) -> Callable[[str], float]:
    """argparse type: a finite number above zero (nan, inf and 0 are usage errors, exit 2)."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


def add_request_options(add) -> None:
    """The request and bound options, shared with the pytest face (``add`` is add_argument-like)."""
    add("--profile", choices=PROFILES, default="generic", help="rule profile (default: generic)")
    add("--resume", action="store_true", help="reconnect with Last-Event-ID and check S-19")
    add("--origin", metavar="ORIGIN", help="send Origin and check CORS headers (S-08)")
    add("--idle", type=_positive(float), metavar="SECONDS",
        help="check a comment or event arrives at least this often (S-18); reads 2*S+1 s at least")
    add("--timeout", type=_positive(float), default=DEFAULTS["timeout"], metavar="S",
        help="seconds to wait for the response headers (default: %(default)s)")
    add("--max-events", type=_positive(int), default=DEFAULTS["max_events"], metavar="N",
        help="stop reading after N events (default: %(default)s)")
    add("--max-seconds", type=_positive(float), default=DEFAULTS["max_seconds"], metavar="S",
        help="stop reading after S seconds (default: %(default)s)")
    add("--max-bytes", type=_positive(int), default=DEFAULTS["max_bytes"], metavar="N",
        help="stop reading after N body bytes (default: %(default)s)")


def add_transport_options(add) -> None:
    """TLS and HTTP version, named as curl names them."""
    add("--cacert", metavar="FILE", help="trust the CA certificates in this PEM file (as curl); "
                                         "else SSL_CERT_FILE, the system store and certifi")
    add("-k", "--insecure", action="store_true", help="do not verify the server's certificate (as curl)")
    add("--http2", action="store_true", help="offer HTTP/2 over TLS (ALPN) on https:// URLs (as curl)")
    add("--http2-prior-knowledge", action="store_true",
        help="speak HTTP/2 without negotiation (h2c) on http:// URLs (as curl)")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", metavar="URL",
                        help="the SSE endpoint, http:// or https://; with --app, the path (/events)")
    parser.add_argument("--app", metavar="MODULE:APP",
                        help="serve this ASGI or WSGI app on 127.0.0.1 for the run and check URL on it")
    parser.add_argument("-X", "--request", dest="method", metavar="METHOD",
                        help="HTTP method (default: GET, or POST with -d), as in curl")
    parser.add_argument("-H", "--header", dest="headers", action="append", default=[],
                        metavar="'Name: value'", help="extra request header (repeatable), as in curl")
    parser.add_argument("-d", "--data", metavar="DATA", help="request body; @FILE reads a file, as in curl")
    add_request_options(parser.add_argument)
    add_transport_options(parser.add_argument)
    add_gate_options(parser.add_argument)
    add_output_options(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the summary line")
    parser.add_argument("-v", "--trace", action="store_true",
                        help="also show the parsed events and the raw bytes with arrival times")


def read_data(value: str | None) -> bytes | None:
    """curl's -d: literal text, or @FILE (@- for stdin), sent as given."""
    if value is None:
        return None
    if not value.startswith("@"):
        return value.encode()
    name = value[1:]
    try:
        return sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read -d {value}: {error.strerror}") from None


def run(args: argparse.Namespace) -> int:
    check_report_paths(args)
    out = human_stream(args)
    gate = gate_from_args(args.strict, args.select, args.skip, args.baseline)
    gate.check_selection(*server_and_client_ids())
    headers = [parse_header(h) for h in args.headers]
    data = read_data(args.data)
    progress = None if args.quiet else (lambda text: print(f"  … {text}", file=sys.stderr, flush=True))
    started = time.time()
    report = run_server_suite(
        args.url, profile=args.profile, method=args.method, headers=headers, data=data,
        resume=args.resume, origin=args.origin, idle=args.idle, timeout=args.timeout,
        max_events=args.max_events, max_seconds=args.max_seconds, max_bytes=args.max_bytes,
        progress=progress, cacert=args.cacert, insecure=args.insecure, http2=args.http2,
        http2_prior_knowledge=args.http2_prior_knowledge, app=args.app, trace=args.trace)
    timed(report, started)
    gate.apply(report)
    if "trace" in report.meta:
        print(render_trace(report.meta["trace"]) + "\n", file=out)
    print(report.summary_line() if args.quiet else render(report), file=out)
    write_reports(report, args)
    return 0 if report.ok else 1
