"""The ``sse-conformance`` command: a table of subcommands, each a thin face in its own module.

A subcommand module provides ``configure(parser)`` and ``run(args) -> int``. Exit status is 0, 1
or 2 only (see EXIT_CODES); usage errors exit 2 with one line; nothing ever prints a traceback
(set SSE_CONFORMANCE_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
from collections.abc import Sequence

from . import __version__
from .display import printable
from .errors import UsageError

__all__ = ["UsageError", "main"]


# optional module -> the extra that installs it (the base install only checks servers and clients)
EXTRAS = {"uvicorn": "asgi", "fastapi": "reference", "sse_starlette": "reference", "starlette": "reference",
          "requests": "reference", "hypothesis": "dev"}


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


# A flag that means something else here than a user expects: (command, flag) -> what to say.
# ``server -k S-09``: -k is curl's --insecure (it takes no value), not pytest's and the client's -k.
FLAG_HINTS = {
    ("server", "-k"): "-k here is --insecure as in curl, and takes no value; "
                      "to pick rules use --select {value}",
}


def _value_after(words: list[str], flag: str) -> str | None:
    """The word given after ``flag`` (what the user meant as its value), if any."""
    value = words[words.index(flag) + 1] if flag in words[:-1] else None
    return None if value is None or value.startswith("-") else value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}{self._hint(message)}")

    def _hint(self, message: str) -> str:
        """A closer look at unrecognized arguments: a flag that means something else here, or
        a typo of a known one ("did you mean --junit-xml?")."""
        if not message.startswith("unrecognized arguments:"):
            return ""
        given = list(getattr(self, "_given", []))
        commands = next((a.choices for a in self._actions if isinstance(a, argparse._SubParsersAction)), {})
        command = next((word for word in given if word in commands), "")
        extra = message.split(":", 1)[1].split()
        for (where, flag), hint in FLAG_HINTS.items():
            value = _value_after(given, flag)
            if where == command and value in extra:
                return f" ({hint.format(value=value)})"
        parser = commands.get(command, self)
        known = [o for o in parser._option_string_actions if o.startswith("--")]
        for word in extra:
            close = difflib.get_close_matches(word.split("=")[0], known, n=1, cutoff=0.75)
            if word.startswith("--") and close:
                return f" (did you mean {close[0]}?)"
        return ""

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def]
        self._given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser, with the options of the subcommand ``argv`` names (only its module is
    imported: ``rules`` or ``client`` need not load the server suite, nor the report)."""
    chosen = next((word for word in argv if not word.startswith("-")), None)
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
        if name == chosen:
            module = importlib.import_module(module_name)
            sub.set_defaults(_run=module.run)
            module.configure(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        words = list(sys.argv[1:] if argv is None else argv)
        parser = build_parser(words)
        args = parser.parse_args(words)
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
