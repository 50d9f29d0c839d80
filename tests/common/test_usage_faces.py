"""Input a new user gets wrong (issue 25): each gets one line and exit 2, never a silent pass,
a traceback or an "internal error"."""

import pytest

NOWHERE = "http://127.0.0.1:9/events"  # never connected to: these are refused before the run




def _one_line(code: int, out: str, err: str) -> str:
    assert code == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err and "internal error" not in err, err
    return lines[0]


@pytest.mark.parametrize("pattern", ["C-0*", "LE-*", "LE-001", "N-11"])
def test_selecting_only_client_rules_or_cases_on_the_server_is_a_usage_error(cli_run, pattern):
    line = _one_line(*cli_run("server", NOWHERE, "--select", pattern))
    assert "client rules or cases" in line and "sse-conformance client" in line


def test_a_selection_that_names_nothing_is_still_a_typo(cli_run):
    line = _one_line(*cli_run("server", NOWHERE, "--select", "ZZ-*"))
    assert "matches no rule or case" in line
