"""The httpx reference client reads the proxy variables once per process (httpx would read them
at every client it builds); set, they are still obeyed."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit

from refclients_support import Reply

RUN = (
    "import sys; from reference_clients import httpx_client; "
    "print([e.data for e in httpx_client.connect(sys.argv[1], max_reconnects=0)])"
)


def run_with_env(url: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    done = subprocess.run([sys.executable, "-c", RUN, url], env={**environment, **env},
                          capture_output=True, text=True, timeout=60, cwd=os.getcwd())
    return done.stdout.strip() or done.stderr.strip()[-300:]


def test_a_proxy_in_the_environment_carries_the_stream(server):
    url = server.script(Reply([b"data: via the proxy\n\n"]))
    parts = urlsplit(url)
    # A host that does not resolve: only a client that goes through the proxy reaches the server.
    proxied = f"http://sse-reference.invalid{parts.path}"
    assert run_with_env(proxied, HTTP_PROXY=f"http://{parts.netloc}") == "['via the proxy']"
    assert server.seen(url)[0].path == parts.path


def test_without_a_proxy_it_connects_directly(server):
    url = server.script(Reply([b"data: direct\n\n"]))
    assert run_with_env(url) == "['direct']"
