"""The corpus is well-formed: schema-valid, unique stable IDs, known rules, full coverage."""

from __future__ import annotations

import json
import re
from collections import Counter

import jsonschema
import pytest

from conformance.cases import SCHEMA_PATH, case_files, load_cases
from conformance.rules import RULES

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))

# Rules a case file must cover: every parsing rule, and the connection rules that apply outside
# a browser (N-17 URL handling and N-18 CORS are browser API rules).
REQUIRED_RULES = [f"C-{n:02d}" for n in range(1, 40)] + [f"N-{n:02d}" for n in (*range(1, 17), 19)]


def test_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.name)
def test_file_validates_against_schema(path, raw_files):
    jsonschema.Draft202012Validator(SCHEMA).validate(raw_files[path])


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.name)
def test_area_matches_file_name(path, raw_files):
    assert raw_files[path]["area"] == path.stem


def test_ids_unique_across_files():
    counts = Counter(case.id for case in load_cases())
    assert [case_id for case_id, n in counts.items() if n > 1] == []


def test_rule_ids_exist():
    unknown = {(case.id, rule) for case in load_cases() for rule in case.rules if rule not in RULES}
    assert unknown == set()


def test_descriptions_short_and_plain():
    bad = [
        case.id
        for case in load_cases()
        if len(case.description) >= 70 or re.search(r"\bshould\b", case.description, re.I)
    ]
    assert bad == []

