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

from .routes import ROUTES
from .runner import KINDS, ServerThread
from .settings import Settings

__all__ = ["configure", "run"]

# the optional packages each server needs (the `reference` extra); aiohttp is a base dependency
NEEDS = {"fastapi": ("fastapi", "sse_starlette", "uvicorn")}


def _endpoint_list() -> str:
    rows = [f"  {r.method:<4} {r.path}" for r in ROUTES] + ["  GET  /stats  (active streams)"]
    return "endpoints:\n" + "\n".join(rows)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _endpoint_list()
    parser.add_argument("kind", choices=KINDS, help="which adapter to serve")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind, 0 for any (default 8000)")
    parser.add_argument("--heartbeat", type=float, default=Settings.heartbeat,
                        help="seconds of idle before a comment heartbeat, 0 for none (default 15)")
    parser.add_argument("--interval", type=float, default=Settings.interval,
                        help="default seconds between scenario events (default 0.2)")
    parser.add_argument("--allowed-origins", default=None, metavar="LIST",
                        help="comma-separated CORS origins, '*' for any (default: $ALLOWED_ORIGINS)")


def run(args: argparse.Namespace) -> int:
    overrides: dict[str, object] = {"heartbeat": args.heartbeat, "interval": args.interval}
    if args.allowed_origins is not None:
        overrides["allowed_origins"] = args.allowed_origins
    if not 0 <= args.port <= 65535:
        raise UsageError(f"serve: --port must be between 0 and 65535, got {args.port}")
    missing = [m for m in NEEDS.get(args.kind, ()) if importlib.util.find_spec(m) is None]
    if missing:
        needs = ", ".join(missing)
        raise UsageError(f"serve {args.kind} needs {needs}: pip install 'sse-conformance[reference]'")
    try:
        settings = Settings.from_env(**overrides)
        server = ServerThread(args.kind, settings, args.host, args.port)
    except ValueError as error:
        raise UsageError(f"serve: {error}") from None
    except OSError as error:
        raise UsageError(f"serve: cannot listen on {args.host}:{args.port}: {error.strerror}") from None
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
