"""The ``sse-conformance`` command: a table of subcommands, each a thin face in its own module.

A subcommand module provides ``configure(parser)`` and ``run(args) -> int``. Exit status is 0, 1
or 2 only (see EXIT_CODES); usage errors exit 2 with one line; nothing ever prints a traceback
(set SSE_CONFORMANCE_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from . import __version__
from .display import printable

__all__ = ["UsageError", "main"]


# optional module -> the extra that installs it (the base install only checks servers and clients)
EXTRAS = {"uvicorn": "asgi", "fastapi": "reference", "sse_starlette": "reference", "starlette": "reference",
          "requests": "reference", "hypothesis": "dev"}


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit status 2."""


# The documented exit statuses (README and `sse-conformance --help` show this table).
EXIT_CODES = {
    0: "every MUST rule holds (with --strict: every SHOULD rule too, and no stale baseline entry)",
    1: "a rule failed, or the suite could not judge (an error verdict)",
    2: "bad input: a usage error, an unusable URL, app or target, an unwritable report path",
}

# name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "selftest": (
        "conformance.selftest",
        "run the suite against the bundled reference servers and clients (the main job)",
    ),
    "server": ("conformance.server.cli", "check any SSE endpoint URL against the server rules"),
    "client": ("conformance.client.cli", "run an SSE client against every client case"),
    "serve-cases": ("conformance.client.serve", "serve every client case at its own URL"),
    "serve": ("reference_servers.cli", "run a bundled reference server (aiohttp or fastapi)"),
    "report": ("conformance.report.cli", "regenerate REPORT.md from real runs"),
    "rules": ("conformance.rules_cli", "list the rule catalogue, or explain one rule: rules S-09"),
    "cases": ("conformance.cases_cli", "list the client cases with their rules: cases -k 'LE-*'"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sse-conformance",
        description="Conformance test suite for Server-Sent Events (WHATWG HTML 9.2).",
        epilog="exit status:\n" + "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sse-conformance {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(module_name)
        sub.set_defaults(_run=module.run)
        module.configure(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return 2
        return int(args._run(args) or 0)
    except UsageError as error:
        print(f"error: {printable(str(error))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:
        extra = EXTRAS.get((error.name or "").split(".")[0])
        if extra is None or os.environ.get("SSE_CONFORMANCE_DEBUG"):
            raise
        print(f"error: this needs {error.name}: pip install 'sse-conformance[{extra}]'", file=sys.stderr)
        return 2
    except Exception as error:  # never a traceback for users
        if os.environ.get("SSE_CONFORMANCE_DEBUG"):
            raise
        print(f"error: internal error (a bug in sse-conformance, please report it): "
              f"{type(error).__name__}: {printable(str(error))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
