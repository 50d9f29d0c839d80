"""The pytest face: ``pytest --sse-client module:callable`` collects every case x chunking as
``CASE-ID[chunking]`` (for ``-k`` and ``--junitxml``). One case server per pytest process (each
xdist worker has its own), started on the first item that runs.
"""

from __future__ import annotations

import pytest

from ..plan import PlannedItem
from ..results import Result
from ..structured import add_client_data
from .options import make_plan, make_target, memory_bytes, positive
from .runner import BackgroundRun, Item

__all__ = ["plan", "target"]


def plan(config: pytest.Config) -> list[PlannedItem] | None:
    spec = config.getoption("--sse-client")
    command = config.getoption("--sse-client-cmd")
    harness = config.getoption("--sse-client-harness")
    if not spec and not command and not harness:
        return None
    memory = config.getoption("--sse-max-memory")  # a bad value: a UsageError, pytest's (plugin.py)
    max_memory = memory_bytes(memory, "--sse-max-memory") if memory is not None else None
    target = make_target(spec, command, config.getoption("--sse-capability"), harness=harness,
                         max_memory=max_memory)
    scale = positive(config.getoption("--sse-timeout-scale"), "--sse-timeout-scale")
    profile = config.getoption("--sse-profile")
    items = make_plan(profile=profile, pattern=None, chunkings=config.getoption("--sse-chunking"))
    background: BackgroundRun | None = None  # started, with its case server, by the first item run

    def run(item: Item) -> list[Result]:
        nonlocal background
        if background is None:
            background = BackgroundRun(target, timeout_scale=scale)
            config.add_cleanup(background.close)
        results = background.run_item(item)
        add_client_data(results, item.case)
        return results

    return [
        PlannedItem(name=item.name, rule=item.case.rules[0], run=lambda item=item: run(item),
                    face="client", case=item.case.id, rules=tuple(item.case.rules))
        for item in items
    ]


def target(config: pytest.Config) -> str:
    """What the JUnit testsuite property names as the target."""
    return (config.getoption("--sse-client") or config.getoption("--sse-client-cmd")
            or config.getoption("--sse-client-harness"))
