"""Every JSON report any test produces in-process is validated against the shipped schema.

Why here: the schema is a contract with users' tools; wrapping ``Report.to_json`` once means a
new field that the schema does not allow fails the first test that produces it.
"""

import pytest

from conformance.results import Report
from conformance.schema import validate_report

_to_json = Report.to_json


def _validated(self):
    data = _to_json(self)
    validate_report(data)
    return data


Report.to_json = _validated


@pytest.fixture
def cli_run(capsys):
    """``sse-conformance ARGS`` in this process: (exit status, stdout, stderr)."""
    from conformance.cli import main

    def run(*args):
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
