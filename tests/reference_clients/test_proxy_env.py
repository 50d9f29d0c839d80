"""The httpx and requests reference clients read the proxy variables (and requests ~/.netrc) once
per process (httpx would read them at every client it builds, requests at every request); set,
they are still obeyed."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from refclients_support import Reply

RUN = (
    "import sys; from reference_clients import {0}; "
    "print([e.data for e in {0}.connect(sys.argv[1], max_reconnects=0)])"
)
CLIENTS = ["httpx_client", "requests_client"]


def run_with_env(url: str, client: str = "httpx_client", **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    done = subprocess.run([sys.executable, "-c", RUN.format(client), url], env={**environment, **env},
                          capture_output=True, text=True, timeout=60, cwd=os.getcwd())
    return done.stdout.strip() or done.stderr.strip()[-300:]


@pytest.mark.parametrize("client", CLIENTS)
def test_a_proxy_in_the_environment_carries_the_stream(server, client):
    url = server.script(Reply([b"data: via the proxy\n\n"]))
    parts = urlsplit(url)
    # A host that does not resolve: only a client that goes through the proxy reaches the server.
    proxied = f"http://sse-reference.invalid{parts.path}"
    assert run_with_env(proxied, client, HTTP_PROXY=f"http://{parts.netloc}") == "['via the proxy']"
    assert server.seen(url)[0].path == parts.path


@pytest.mark.parametrize("client", CLIENTS)
def test_without_a_proxy_it_connects_directly(server, client):
    url = server.script(Reply([b"data: direct\n\n"]))
    assert run_with_env(url, client) == "['direct']"


def test_requests_still_sends_the_credentials_of_a_netrc(server, tmp_path):
    url = server.script(Reply([b"data: signed in\n\n"]))
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {urlsplit(url).hostname} login ann password secret\n")
    netrc.chmod(0o600)
    assert run_with_env(url, "requests_client", NETRC=str(netrc)) == "['signed in']"
    assert server.seen(url)[0].header("authorization") == b"Basic YW5uOnNlY3JldA=="  # ann:secret
