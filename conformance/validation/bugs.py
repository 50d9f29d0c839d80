"""The validation set as data: ``bugs.toml`` read and checked, one ``Bug`` per entry.

A malformed file is one ``BugsError`` line naming the entry and the field, so a typo in the data
never surfaces as a traceback in the middle of a long run.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import tomllib

from ..rules import RULES

__all__ = ["BUGS_FILE", "ECOSYSTEMS", "Bug", "BugsError", "load_bugs"]

BUGS_FILE = Path(__file__).resolve().parent / "bugs.toml"
ECOSYSTEMS = ("pypi", "npm")
_VERSION = re.compile(r"^[0-9][0-9A-Za-z.+-]*$")
_REQUIRED = ("library", "ecosystem", "row", "buggy", "fixed", "rule", "source", "description")
_OPTIONAL = {"select": list, "skip": list, "quick": bool, "deps": bool, "package": str, "pins": dict}
_PIN = re.compile(
    r"^(@?[a-z0-9][a-z0-9._/-]*@[0-9][0-9A-Za-z.+-]*)( @?[a-z0-9][a-z0-9._/-]*@[0-9][0-9A-Za-z.+-]*)*$"
)


class BugsError(ValueError):
    """A validation file that cannot be used; the message says where and why in one line."""


@dataclass(frozen=True)
class Bug:
    """One shipped-and-fixed bug: which releases, which rule, where it was reported."""

    library: str
    ecosystem: str
    row: str
    buggy: str
    fixed: str
    rule: str
    source: str
    description: str
    select: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()  # cases both releases fail for a bug of their own (--skip)
    quick: bool = False
    deps: bool = False
    package: str = ""
    pins: dict[str, str] = dataclasses.field(default_factory=dict)  # version -> "dep@x.y.z ..."

    @property
    def key(self) -> str:
        """A name unique in the set: ``library buggy->fixed rule``."""
        return f"{self.library} {self.buggy}->{self.fixed} {self.rule}"

    @property
    def dist(self) -> str:
        """The registry name to install (the library name unless ``package`` says otherwise)."""
        return self.package or self.library

    @property
    def selection(self) -> tuple[str, ...]:
        """What ``--select`` gets: the entry's own list, else its rule (all that rule's cases)."""
        return self.select or (self.rule,)


def _check(entry: object, where: str) -> Bug:
    def fail(problem: str) -> BugsError:
        return BugsError(f"{where}: {problem}")

    if not isinstance(entry, dict):
        raise fail("an entry is a table")
    for key in _REQUIRED:
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise fail(f"'{key}' must be a non-empty string")
    for key, kind in _OPTIONAL.items():
        if key in entry and not isinstance(entry[key], kind):
            raise fail(f"'{key}' must be a {kind.__name__}")
    unknown = set(entry) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise fail(f"unknown field(s): {', '.join(sorted(unknown))}")
    if entry["ecosystem"] not in ECOSYSTEMS:
        raise fail(f"ecosystem must be one of {', '.join(ECOSYSTEMS)}, not {entry['ecosystem']!r}")
    if entry["rule"] not in RULES:
        raise fail(f"rule {entry['rule']!r} is not in the catalogue (sse-conformance rules)")
    for key in ("buggy", "fixed"):
        if not _VERSION.match(entry[key]):
            raise fail(f"'{key}' must be an exact release, not {entry[key]!r}")
    if entry["buggy"] == entry["fixed"]:
        raise fail("buggy and fixed name the same release")
    if not entry["source"].startswith("https://"):
        raise fail("'source' must be an https:// link to the issue, pull request, commit or release")
    select, skip = entry.get("select", []), entry.get("skip", [])
    if not all(isinstance(s, str) and s for s in [*select, *skip]):
        raise fail("'select' and 'skip' are lists of rule or case patterns")
    for version, pinned in entry.get("pins", {}).items():
        if version not in (entry["buggy"], entry["fixed"]) or not _PIN.match(str(pinned)):
            raise fail("'pins' maps the buggy or fixed release to 'package@x.y.z ...'")
    return Bug(**{**entry, "select": tuple(select), "skip": tuple(skip)})


def load_bugs(path: str | Path = BUGS_FILE) -> tuple[Bug, ...]:
    """Every entry of ``path``, checked; keys are unique."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BugsError(f"{path}: {error}") from None
    entries = data.get("bug")
    if not isinstance(entries, list) or not entries:
        raise BugsError(f"{path}: no [[bug]] entries")
    bugs = tuple(_check(entry, f"{path} entry {n}") for n, entry in enumerate(entries, 1))
    seen: set[str] = set()
    for bug in bugs:
        if bug.key in seen:
            raise BugsError(f"{path}: {bug.key} is listed twice")
        seen.add(bug.key)
    return bugs
