"""Run a chosen list of items (after --select/--skip) and build the client Report.

Why not ``run_client_suite``: it plans by one pattern; the gates choose items by rule and case
globs, so the faces plan, filter, and hand the list here. The runner itself is untouched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..results import Report
from ..structured import add_client_data
from .runner import DEFAULT_CONCURRENCY, ClientRun, Item, Progress

__all__ = ["run_items"]


def run_items(
    target: Any, items: Sequence[Item], *, profile: str = "generic", capabilities: Iterable[str] = (),
    timeout_scale: float = 1.0, concurrency: int = DEFAULT_CONCURRENCY, progress: Progress | None = None,
    pattern: str | None = None,
) -> Report:
    """Every item against ``target`` on one case server; safe inside a running loop."""
    client = ClientRun(target, capabilities=capabilities, timeout_scale=timeout_scale,
                       concurrency=concurrency)

    async def main() -> list:
        async with client.server:
            return await client.run(items, progress)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        results = asyncio.run(main())
    else:
        with ThreadPoolExecutor(max_workers=1) as pool:
            results = pool.submit(asyncio.run, main()).result()
    for case in {item.case.id: item.case for item in items}.values():
        add_client_data(results, case)
    return Report(kind="client", target=client.name, results=results, meta={
        "profile": profile, "capabilities": sorted(client.capabilities), "pattern": pattern,
        "items": len(items), "timeout_scale": timeout_scale})
