"""``sse-conformance serve KIND``: run a reference server in the foreground until interrupted.

Prints one line with the base URL once the socket is bound (``--port 0`` picks a free port, so
scripts read the URL from that line). ALLOWED_ORIGINS in the environment sets CORS.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import sys
import threading

from conformance.cli import UsageError
from conformance.peer_log import one_line_request_errors

from .routes import ROUTES
from .runner import KINDS, ServerThread
from .settings import Settings

__all__ = ["TUNABLES", "configure", "run", "settings_from"]

# the optional packages each server needs (the `reference` extra); aiohttp is a base dependency
NEEDS = {"fastapi": ("fastapi", "sse_starlette", "uvicorn")}


def _endpoint_list() -> str:
    rows = [f"  {r.method:<4} {r.path}" for r in ROUTES] + ["  GET  /stats  (active streams)"]
    return "endpoints:\n" + "\n".join(rows)


# flag -> Settings field it sets, its type, what it means; Settings checks the bounds.
TUNABLES: tuple[tuple[str, str, type, str], ...] = (
    ("--heartbeat", "heartbeat", float, "seconds of idle before a comment heartbeat, 0 for none"),
    ("--interval", "interval", float, "default seconds between scenario events"),
    ("--send-timeout", "send_timeout", float,
     "seconds a write may wait on a client that stopped reading before it is dropped, 0 for none"),
    ("--header-timeout", "header_timeout", float,
     "seconds a connection may take to send a whole request head"),
    ("--max-body", "max_body", int, "largest request body in bytes (413 past it)"),
)


def settings_from(args: argparse.Namespace) -> Settings:
    """The server settings the command line asks for (ValueError for a value out of bounds)."""
    overrides: dict[str, object] = {name: getattr(args, name) for _, name, _, _ in TUNABLES}
    if args.allowed_origins is not None:
        overrides["allowed_origins"] = args.allowed_origins
    return Settings.from_env(**overrides)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _endpoint_list()
    parser.add_argument("kind", choices=KINDS, help="which adapter to serve")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind, 0 for any (default 8000)")
    for flag, name, kind, meaning in TUNABLES:
        default = getattr(Settings, name)
        parser.add_argument(flag, type=kind, default=default, dest=name,
                            metavar="BYTES" if kind is int else "SECONDS",
                            help=f"{meaning} (default {default})")
    parser.add_argument("--allowed-origins", default=None, metavar="LIST",
                        help="comma-separated CORS origins, '*' for any; only origins named here "
                             "get credentials (default: $ALLOWED_ORIGINS)")


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"serve: --port must be between 0 and 65535, got {args.port}")
    missing = [m for m in NEEDS.get(args.kind, ()) if importlib.util.find_spec(m) is None]
    if missing:
        needs = ", ".join(missing)
        raise UsageError(f"serve {args.kind} needs {needs}: pip install 'sse-conformance[reference]'")
    try:
        settings = settings_from(args)
        server = ServerThread(args.kind, settings, args.host, args.port)
    except ValueError as error:
        raise UsageError(f"serve: {error}") from None
    except OSError as error:
        raise UsageError(f"serve: cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    one_line_request_errors()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        url = server.start()
        print(f"serving the {args.kind} reference server on {url} (Ctrl-C stops it)", flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    except RuntimeError as error:
        print(f"sse-conformance serve: {error}", file=sys.stderr)
        return 1
    finally:
        server.stop()
    return 0
