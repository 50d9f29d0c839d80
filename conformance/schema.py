"""The JSON report's schema (``schemas/report.schema.json``), shipped so consumers can validate.

``validate_report(data)`` raises ``jsonschema.ValidationError`` for a report that breaks it; the
project's tests run it on every report they produce.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["REPORT_SCHEMA_PATH", "report_schema", "validate_report"]

REPORT_SCHEMA_PATH = Path(__file__).parent / "schemas" / "report.schema.json"


@cache
def report_schema() -> dict[str, Any]:
    return json.loads(REPORT_SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(report_schema())


def validate_report(data: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless ``data`` (a parsed JSON report) fits the schema."""
    _validator().validate(data)
