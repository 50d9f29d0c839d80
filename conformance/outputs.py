"""Report files shared by the ``server`` and ``client`` faces: options, early checks, writing.

Why check before the run: a typo in a report path used to surface only after minutes of
checks. ``-`` means stdout (then the human output goes to stderr, so stdout stays parseable).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from .errors import UsageError
from .results import Report

__all__ = ["REPORTS", "add_output_options", "check_report_paths", "human_stream", "write_reports"]

# option dest -> (flag, help, how to write): one row per report format
REPORTS = {
    "json_report": ("--json-report", "write the JSON report here ('-' for stdout)"),
    "junit_xml": ("--junit-xml", "write a JUnit XML report here ('-' for stdout)"),
    "html": ("--html", "write a self-contained HTML report here ('-' for stdout)"),
}


def add_output_options(parser: argparse.ArgumentParser) -> None:
    for dest, (flag, help_text) in REPORTS.items():
        parser.add_argument(flag, dest=dest, metavar="PATH", help=help_text)


def _paths(args: argparse.Namespace) -> dict[str, str]:
    return {dest: value for dest in REPORTS if (value := getattr(args, dest, None))}


def check_report_paths(args: argparse.Namespace) -> None:
    """Fail before the run for a path that cannot be written (exit 2), and for two reports on stdout."""
    paths = _paths(args)
    if list(paths.values()).count("-") > 1:
        raise UsageError("only one report can go to stdout ('-')")
    for dest, value in paths.items():
        if value == "-":
            continue
        path = Path(value)
        flag = REPORTS[dest][0]
        if path.is_dir():
            raise UsageError(f"{flag} {value}: is a directory")
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise UsageError(f"{flag} {value}: no such directory {str(parent)!r}")
        if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise UsageError(f"{flag} {value}: not writable")


def human_stream(args: argparse.Namespace) -> TextIO:
    """Where the human output goes: stderr when a report is written to stdout."""
    return sys.stderr if "-" in _paths(args).values() else sys.stdout


def write_reports(report: Report, args: argparse.Namespace) -> None:
    writers = {"json_report": report.write_json, "junit_xml": report.write_junit, "html": report.write_html}
    for dest, value in _paths(args).items():
        try:
            writers[dest](value)
        except OSError as error:
            raise UsageError(f"cannot write {REPORTS[dest][0]} {value}: {error.strerror}") from None
