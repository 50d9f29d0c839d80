"""The legacy ``sseclient`` 0.0.27 (btubbs) as a command: ``python THIS LIBDIR URL``.

It shares the module name ``sseclient`` with sseclient-py, so it lives in a private
``pip install --target`` directory put first on ``sys.path``. Prints one JSON event per line.
Standalone on purpose: it must not import anything else from this project.
"""

from __future__ import annotations

import json
import sys


def main(libdir: str, url: str) -> None:
    sys.path.insert(0, libdir)
    import sseclient  # the legacy one, from libdir

    for message in sseclient.SSEClient(url):
        line = {"event": message.event or "message", "data": message.data, "id": message.id or ""}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
