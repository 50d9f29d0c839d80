"""The case-selection options shared by ``client`` and ``serve-cases``."""

from __future__ import annotations

import argparse

from .targets import PROFILES

__all__ = ["add_selection_options"]


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile", choices=PROFILES, default="generic", help="generic (events) or openai (assembled text)"
    )
    parser.add_argument(
        "-k", metavar="PATTERN", help="only cases whose ID or description matches (substring or glob)"
    )
    parser.add_argument(
        "--chunking",
        action="append",
        metavar="NAME",
        help="only these chunkings (repeatable): whole, 1-byte, 2-byte, crlf, utf8, random, random-SEED",
    )
