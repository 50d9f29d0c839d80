import asyncio
import sys
from pathlib import Path

import pytest

from conformance.client.runner import ClientRun, plan_items
from conformance.results import Outcome, Report

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


def bad(report: Report) -> list[str]:
    """The failures and errors of ``report``, one line each: an assertion's message."""
    failed = (Outcome.FAIL, Outcome.ERROR)
    return [f"{r.name} {r.rule}: {r.message}" for r in report.results if r.outcome in failed]


def run_cases(
    target, *, rules=(), chunkings=("whole",), profile="generic", capabilities=(), scale=1.0,
    exclude=(), only=(), **options,
):
    """Run the cases covering any of ``rules`` (all when empty) or listed in ``only``, minus
    ``exclude``, and return the Report. Each run ends on a fact (see conformance.client.ending),
    so a busy shared machine slows a run but does not change its verdict."""
    items = [
        item
        for item in plan_items(profile=profile, chunkings=chunkings)
        if (not rules or set(rules) & set(item.case.rules) or item.case.id in only)
        and item.case.id not in exclude
    ]
    assert items, f"no {profile} case covers {rules} under {chunkings}"
    run = ClientRun(target, capabilities=capabilities, timeout_scale=scale, **options)

    async def main():
        async with run.server:
            return await run.run(items)

    return Report(kind="client", target=run.name, results=asyncio.run(main()))


def outcomes(report, *wanted):
    return {r.rule for r in report.results if r.outcome in wanted}


def failed_rules(report):
    return outcomes(report, Outcome.FAIL)


@pytest.fixture
def run():
    return run_cases
