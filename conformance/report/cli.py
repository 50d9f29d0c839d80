"""``sse-conformance report``: run every implementation, write the results JSON, render REPORT.md
and REPORT.html.

``--from-json`` re-renders from an existing results JSON without running anything; that is how
a test proves the committed REPORT.md came from the committed REPORT.json. ``--implementation
FILE`` runs the rows of those files instead of the built-in ones; ``--merge`` renders one report
from shard JSONs written by ``--only ... --json shard.json`` (docs/report.md has a CI matrix).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from pathlib import Path

from ..display import printable
from ..errors import UsageError
from . import document
from .install import default_cache
from .render import render

__all__ = ["configure", "render_file", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", default="REPORT.md", metavar="PATH", help="Markdown report to write"
    )
    parser.add_argument(
        "--json",
        default=None,
        metavar="PATH",
        help="results JSON to write (default: the output path with .json); with --from-json, "
        "a copy whose causes are inferred again (the verdicts unchanged)",
    )
    parser.add_argument(
        "--from-json",
        default=None,
        metavar="PATH",
        help="re-render the report from this results JSON; run nothing",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only implementations whose name contains NAME (repeatable)",
    )
    parser.add_argument(
        "--implementation",
        action="append",
        default=[],
        metavar="FILE",
        help="run only the rows of this TOML/JSON file (repeatable; format in docs/report.md)",
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        default=None,
        metavar="SHARD",
        help="merge shard JSONs into one results JSON and render it; run nothing",
    )
    parser.add_argument(
        "--html",
        default=None,
        metavar="PATH",
        help="HTML rendering to write (default: the output path with .html; '' for none)",
    )
    parser.add_argument(
        "--shard",
        default=None,
        metavar="K/N",
        help="run part K of N (balanced by cost; the same split on every machine) for --merge",
    )
    parser.add_argument("--jobs", type=int, default=4, help="clients run at once (default 4)")
    parser.add_argument("--no-browser", action="store_true", help="leave Chromium out")
    parser.add_argument("--no-interop", action="store_true", help="leave the interop matrix out")
    parser.add_argument(
        "--cache",
        default=None,
        metavar="DIR",
        help="where npm and private pip installs go (default ~/.cache/sse-conformance)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only the final summary line")


def render_file(json_path: str | Path, output: str | Path, html_path: str | Path | None = None) -> str:
    """Render ``json_path`` into ``output`` (and ``html_path``); returns the Markdown written."""
    doc = document.load(json_path)
    json_name = os.path.relpath(Path(json_path).resolve(), Path(output).resolve().parent)
    text = render(doc, json_name=Path(json_name).as_posix())
    Path(output).write_text(text, encoding="utf-8")
    if html_path:
        from .html import to_html

        Path(html_path).write_text(to_html(text), encoding="utf-8")
    return text


def _summary(doc: dict, output: str, json_path: str, seconds: float | None) -> str:
    impls = doc["implementations"]
    ran = [i for i in impls if i["status"] == "ok"]
    conforming = [
        i
        for i in ran
        if all(r["outcome"] not in ("fail", "error") for rep in i["reports"] for r in rep["results"])
    ]
    took = f" in {seconds:.0f} s" if seconds is not None else ""
    return (
        f"report: {len(impls)} implementations, {len(ran)} ran, {len(conforming)} conform, "
        f"{len(impls) - len(ran)} could not run; wrote {output} from {json_path}{took}"
    )


def _quiet_servers() -> None:
    """Hostile and broken implementations are the point of a report run: their resets, the
    servers' logs of them and the leftovers of clients abandoned in daemon threads are verdicts
    or noise, never tracebacks for the person running the report."""
    for name in (
        "aiohttp.server",
        "aiohttp.access",
        "aiohttp.web",
        "uvicorn.error",
        "uvicorn.access",
        "asyncio",
    ):
        logger = logging.getLogger(name)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
    sys.unraisablehook = lambda unraisable: None
    threading.excepthook = lambda args: None


def run(args: argparse.Namespace) -> int:
    json_path = args.json or str(Path(args.output).with_suffix(".json"))
    html_path = str(Path(args.output).with_suffix(".html")) if args.html is None else args.html
    if args.merge:
        from .merge import merge

        try:
            document.dump(merge(args.merge), json_path)
        except (OSError, ValueError) as error:
            raise UsageError(f"report --merge: {error}") from None
        args.from_json = json_path
    if args.from_json:
        try:
            if args.json:  # the same verdicts, their causes as this version infers them
                document.dump(document.recaused(document.load(args.from_json)), args.json)
                args.from_json = args.json
            render_file(args.from_json, args.output, html_path)
            print(_summary(document.load(args.from_json), args.output, args.from_json, None))
        except (OSError, ValueError) as error:
            raise UsageError(f"report --from-json: {error}") from None
        return 0
    rows = None
    if args.implementation:
        from .implementations import RowError, load_row

        try:
            rows = tuple(load_row(path) for path in args.implementation)
        except RowError as error:
            raise UsageError(f"report --implementation: {error}") from None
    if args.jobs < 1:
        raise UsageError("report: --jobs must be at least 1")
    from .run import RunOptions, collect, shard_names

    shard = None
    if args.shard:
        from .shards import parse

        try:
            shard = shard_names(*parse(args.shard), rows)
        except ValueError as error:
            raise UsageError(f"report: {error}") from None

    _quiet_servers()
    started = time.monotonic()
    say = (lambda _line: None) if args.quiet else (lambda line: print(line, flush=True))
    options = RunOptions(
        cache=Path(args.cache) if args.cache else default_cache(),
        only=tuple(args.only),
        rows=rows,
        shard=shard,
        jobs=args.jobs,
        browser=not args.no_browser,
        interop=not args.no_interop,
        say=say,
    )
    doc = collect(options)
    doc["meta"]["only"] = list(args.only) + ([f"shard {args.shard}"] if args.shard else [])
    document.dump(doc, json_path)
    render_file(json_path, args.output, html_path)
    print(_summary(doc, args.output, json_path, time.monotonic() - started))
    sys.stdout.flush()
    return _own_rows_ran(doc, rows)


def _own_rows_ran(doc: dict, rows: tuple | None) -> int:
    """1 when a row the user gave with --implementation could not run (one line each on stderr):
    the report is still written, but a CI job checking a library must not pass on nothing."""
    if not rows:
        return 0
    names = {row.name for row in rows}
    failed = [i for i in doc["implementations"] if i["name"] in names and i["status"] != "ok"]
    for impl in failed:
        why = printable(impl.get("reason") or impl["status"])
        print(f"report: {impl['name']} could not run: {why}", file=sys.stderr)
    return 1 if failed else 0
