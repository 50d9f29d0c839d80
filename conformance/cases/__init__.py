"""The client case corpus: language-agnostic JSON files, their schema, and a Python loader.

The JSON files are the product (see README.md here for writing a runner in another language);
this package only reads them. ``load_cases()`` returns frozen :class:`Case` objects in file
order, ``case_files()`` lists the files, ``SCHEMA_PATH`` is the JSON Schema they follow.
"""

from __future__ import annotations

import fnmatch
import json
from functools import cache
from pathlib import Path
from typing import Any

from .model import Case, case_from_json

__all__ = [
    "CASES_DIR",
    "SCHEMA_PATH",
    "Case",
    "CaseFileError",
    "case_files",
    "load_case_file",
    "load_cases",
    "matches",
]

CASES_DIR = Path(__file__).resolve().parent
SCHEMA_PATH = CASES_DIR / "case.schema.json"
_GLOB_CHARS = frozenset("*?[")


class CaseFileError(ValueError):
    """A case file is not valid JSON or does not follow the schema (says which file and where)."""


@cache
def _validator() -> Any:
    import jsonschema  # imported here: only loading files needs it

    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def case_files() -> list[Path]:
    """Every case file, sorted by name (the schema itself is not a case file)."""
    return sorted(p for p in CASES_DIR.glob("*.json") if p != SCHEMA_PATH)


@cache
def load_case_file(path: Path) -> tuple[Case, ...]:
    """The cases of one file, in file order, schema-checked (cached: files do not change)."""
    raw = _read(path)
    _check(path, raw)
    return _cases(raw)


@cache
def _bundled_file(path: Path) -> tuple[Case, ...]:
    """A case file of this package. Its schema is checked by the test suite, as the code is
    (tests/cases/test_corpus.py), not at every start, where it cost a fifth of a second before
    a run could begin. A file an edit broke so that it no longer reads is checked, so the error
    still names the file and the place."""
    raw = _read(path)
    try:
        return _cases(raw)
    except (KeyError, TypeError, ValueError, AttributeError):
        _check(path, raw)
        raise CaseFileError(f"{path}: does not read as case files do") from None


def _read(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as error:
        raise CaseFileError(f"{path}: not valid JSON: {error}") from None


def _check(path: Path, raw: Any) -> None:
    problem = next(iter(_validator().iter_errors(raw)), None)
    if problem is not None:
        where = "/".join(str(part) for part in problem.absolute_path)
        raise CaseFileError(f"{path}: at {where or 'the top'}: {problem.message}")


def _cases(raw: Any) -> tuple[Case, ...]:
    return tuple(case_from_json(case, raw["area"]) for case in raw["cases"])


def matches(case: Case, pattern: str) -> bool:
    """pytest ``-k``-like selection: a glob if it has ``*?[``, else a substring; no case."""
    pattern = pattern.lower()
    fields = (case.id.lower(), case.description.lower())
    if _GLOB_CHARS & set(pattern):
        return any(fnmatch.fnmatchcase(text, pattern) for text in fields)
    return any(pattern in text for text in fields)


def load_cases(profile: str | None = None, pattern: str | None = None) -> list[Case]:
    """All cases, optionally only one profile ("generic"/"openai") and those matching pattern."""
    return [
        case
        for path in case_files()
        for case in _bundled_file(path)
        if (profile is None or case.profile == profile) and (pattern is None or matches(case, pattern))
    ]
