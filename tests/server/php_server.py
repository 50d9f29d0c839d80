"""PHP's built-in server (``php -S``) running a stream script under ``output_buffering``: PHP
collects output until the buffer passes its size, then releases it whole.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from daemon import find as _find
from daemon import started

__all__ = ["find", "running"]

# One event of ~1400 bytes every 0.15 s, written with echo and never flushed by the script.
SCRIPT = r"""<?php
header('Content-Type: text/event-stream');
header('Cache-Control: no-cache');
$pad = str_repeat('x', 1380);
for ($i = 1; $i <= 20; $i++) {
    echo "id: $i\ndata: $pad\n\n";
    usleep(150000);
}
"""


def find() -> str | None:
    """The php CLI, or None (apt-get install php-cli; .ci/run does)."""
    return _find("php", "/usr/bin/php")


@contextlib.contextmanager
def running(output_buffering: str, workdir: Path) -> Iterator[str]:
    """``php -S`` serving the stream at ``/events`` with ``output_buffering`` set as given."""
    (workdir / "events.php").write_text(SCRIPT)

    def argv(port: int) -> list[str]:
        return [find() or "php", "-d", f"output_buffering={output_buffering}", "-d", "implicit_flush=0",
                "-S", f"127.0.0.1:{port}", "-t", str(workdir)]

    with started(argv, workdir, "php") as port:
        yield f"http://127.0.0.1:{port}/events.php"
