"""One way to start the real servers the delivery tests put in front of a stream: a generated
config in a tmp dir, a free loopback port, a foreground child process stopped by its own PID.

``find`` says which binary (or why it is absent, for the skip reason); ``started`` retries on a
port taken between the probe and the bind, as ``conformance.report.nginx`` does for nginx.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

from ports import free_port, wait_listening

from conformance.report.nginx import stop_process

__all__ = ["find", "started"]


def find(name: str, *paths: str) -> str | None:
    """The binary on PATH or at one of ``paths``, or None."""
    return shutil.which(name) or next((p for p in paths if Path(p).exists()), None)


@contextlib.contextmanager
def started(argv_for: Callable[[int], list[str]], workdir: Path, log: str,
            env: dict[str, str] | None = None) -> Iterator[int]:
    """Run ``argv_for(port)`` until it listens on ``port``; yield the port, then stop it.

    ``argv_for`` writes the config for that port; ``log`` (in ``workdir``) is what is shown when
    the server does not start."""
    for _attempt in range(3):
        port = free_port()
        out = (workdir / f"{log}.out").open("wb")
        proc = subprocess.Popen(argv_for(port), stdout=out, stderr=subprocess.STDOUT, cwd=workdir, env=env)
        if wait_listening(port, seconds=20, alive=lambda p=proc: p.poll() is None):
            break
        stop_process(proc)
    else:
        raise RuntimeError(f"{log} did not start: {(workdir / f'{log}.out').read_text()[-800:]}")
    try:
        yield port
    finally:
        stop_process(proc)
