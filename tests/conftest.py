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


def pytest_configure(config):
    """The test session's own "alone" lock: a confirmation in a test waits for the test's own
    attempts, not for a report or a stability round another developer job runs on this machine
    (they kept a test's client from starting for minutes). Set by the first process (xdist's
    controller), inherited by its workers."""
    import os
    import tempfile

    from conformance.client.gate import LOCK_ENV

    if LOCK_ENV not in os.environ:
        folder = tempfile.mkdtemp(prefix="sse-conformance-tests-")
        os.environ[LOCK_ENV] = os.path.join(folder, "alone.lock")


@pytest.fixture
def cli_run(capsys):
    """``sse-conformance ARGS`` in this process: (exit status, stdout, stderr)."""
    from conformance.cli import main

    def run(*args):
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
