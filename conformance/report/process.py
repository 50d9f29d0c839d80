"""Start a helper process that announces ``LISTENING <url>`` and always stop it, whatever it does.

Third-party code is hostile by default: it may crash at import, never announce, or ignore
SIGTERM. Each of those becomes a ``StartError`` with a one-line reason for the report.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence

from .servers._serve import ANNOUNCE

__all__ = ["StartError", "announced_url", "python_module_command"]


class StartError(Exception):
    """The implementation could not be started; the message is the reason shown in the report."""


def python_module_command(module: str) -> list[str]:
    """Run ``module`` with the same interpreter as the report."""
    return [sys.executable, "-m", module]


@contextlib.contextmanager
def announced_url(
    command: Sequence[str], *, timeout: float = 20.0, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Start ``command``, wait for its announced URL, yield it, then terminate the process."""
    # stderr goes to a file: a server that logs every request must never block on a full pipe
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env={**os.environ, **(env or {})},
        )
        try:
            url = _read_announcement(proc, timeout)
            if url is None:
                _stop(proc)
                stderr.seek(0)
                raise StartError(_failure_reason(proc, stderr.read(), timeout))
            yield url
        finally:
            _stop(proc)


def _read_announcement(proc: subprocess.Popen[bytes], timeout: float) -> str | None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        buffer = b""
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            buffer += chunk
            for line in buffer.decode("utf-8", "replace").split("\n"):
                if line.startswith(ANNOUNCE + " "):
                    return line.split(" ", 1)[1].strip()
    return None


def _failure_reason(proc: subprocess.Popen[bytes], err_bytes: bytes, timeout: float) -> str:
    """The last line of stderr (the exception, usually), or the exit status, or the timeout."""
    err = err_bytes.decode("utf-8", "replace")
    lines = [line.strip() for line in err.split("\n") if line.strip()]
    if lines:
        return lines[-1][:300]
    if proc.returncode not in (None, 0) and proc.returncode > 0:
        return f"exited with status {proc.returncode} before listening"
    return f"did not announce a URL within {timeout:g} s"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    if proc.stdout:
        proc.stdout.close()
