"""Shared fixtures for the case-corpus tests: the raw JSON of every file, loaded once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cases import case_files


@pytest.fixture(scope="session")
def raw_files() -> dict[Path, dict]:
    return {path: json.loads(path.read_text(encoding="utf-8")) for path in case_files()}
