"""Express with the ``compression()`` middleware (from npm), streaming events with or without
``res.flush()``: without it, zlib holds every event until the response ends.

npm packages come from a cache folder the tests share (``SSE_CONFORMANCE_NODE_MODULES``, else
~/.cache/sse-conformance/express); .ci/run installs express and compression there.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from daemon import find as _find
from daemon import started

__all__ = ["absent", "running"]

FOLDER = Path(os.environ.get("SSE_CONFORMANCE_NODE_MODULES",
                             Path.home() / ".cache" / "sse-conformance" / "express"))
# 25 events 0.1 s apart; res.flush() (added by compression()) after each when FLUSH is set.
APP = """
const express = require('express');
const compression = require('compression');
const app = express();
app.use(compression());
app.get('/events', (req, res) => {
  res.set({'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache'});
  res.flushHeaders();
  let i = 0;
  const timer = setInterval(() => {
    i += 1;
    res.write(`id: ${i}\\ndata: event ${i}\\n\\n`);
    if (process.env.FLUSH === '1') res.flush();
    if (i === 25) { clearInterval(timer); res.end(); }
  }, 100);
  req.on('close', () => clearInterval(timer));
});
app.listen(Number(process.argv[2]), '127.0.0.1');
"""


def absent() -> str | None:
    """Why Express cannot run here, or None when node and the npm packages are there."""
    if _find("node", "/usr/bin/node") is None:
        return "node is not installed"
    missing = [m for m in ("express", "compression") if not (FOLDER / "node_modules" / m).is_dir()]
    if missing:
        return (f"npm packages {', '.join(missing)} are not in {FOLDER} (npm install --prefix {FOLDER} "
                "express compression; .ci/run does)")
    return None


@contextlib.contextmanager
def running(flush: bool, workdir: Path) -> Iterator[str]:
    """The app on a free port; ``flush`` calls res.flush() after every event."""
    script = workdir / "app.js"
    script.write_text(APP)
    env = {**os.environ, "NODE_PATH": str(FOLDER / "node_modules"), "FLUSH": "1" if flush else "0"}
    with started(lambda port: [_find("node", "/usr/bin/node") or "node", str(script), str(port)],
                 workdir, "express", env=env) as port:
        yield f"http://127.0.0.1:{port}/events"
