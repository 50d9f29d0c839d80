"""requests transport: a sync event stream over a ``requests.Session``.

Body bytes come from the urllib3 response with ``read1`` (whatever has arrived, content-decoded),
never ``iter_lines`` (which mis-splits a CRLF across chunks) and never ``response.text`` or the
guessed ISO-8859-1 encoding requests applies to ``text/*``: the parser decodes UTF-8 itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import requests
import urllib3.exceptions

from ._drive import EventStream
from ._machine import Machine
from ._request import Request
from ._target import make_target

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from ._options import Options

__all__ = ["conformance_target", "connect"]

_READ_SIZE = 65536

# requests reads the proxy variables, ~/.netrc and the CA bundle variables of the environment at
# every request (0.1 ms of CPU each): read once here, as the httpx transport does. With no proxy
# and no netrc, a session that reads none of them, given the bundle they name, is the same session.
_BUNDLE = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
_NETRC = [os.environ["NETRC"]] if "NETRC" in os.environ else [f"~/{f}" for f in requests.utils.NETRC_FILES]
_PLAIN = not requests.utils.getproxies() and not any(os.path.exists(os.path.expanduser(f)) for f in _NETRC)


def _own_session() -> requests.Session:
    session = requests.Session()
    if _PLAIN:
        session.trust_env = False
        session.verify = _BUNDLE or True
    return session


class _Response:
    def __init__(self, response: requests.Response) -> None:
        self.status = response.status_code
        self.header = response.headers.get
        self._response = response

    def chunks(self) -> Iterator[bytes]:
        raw = self._response.raw
        if not hasattr(raw, "read1"):  # urllib3 1.x: per HTTP chunk (bytes, never decoded text)
            yield from self._response.iter_content(chunk_size=None)
            return
        # read1 returns as soon as any bytes arrive (a chunked body, or a body until close).
        while chunk := raw.read1(_READ_SIZE, decode_content=True):
            yield chunk


class _Transport:
    # Only failures of the connection mean "reconnect"; InvalidHeader, InvalidURL and the like
    # are the caller's mistakes and must not loop.
    network_errors = (
        requests.ConnectionError,
        requests.Timeout,
        requests.exceptions.ChunkedEncodingError,
        urllib3.exceptions.ProtocolError,
        urllib3.exceptions.ReadTimeoutError,
        ConnectionError,
        TimeoutError,
    )
    timeout_errors = (requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError)

    def __init__(self, machine: Machine, session: requests.Session | None) -> None:
        self._session = session or _own_session()
        self._owned = session is None
        self._timeout = (machine.timeout, machine.read_timeout)

    @contextmanager
    def open(self, request: Request) -> Iterator[_Response]:
        with self._session.request(
            request.method,
            request.url,
            # urllib3 returns a connection to its pool even when the server is closing it, and
            # never retries the next request that then meets a reset; one connection per request
            # is what an event stream uses anyway.
            headers={**dict(request.header_bytes()), "Connection": b"close"},
            data=request.body,
            stream=True,
            allow_redirects=False,  # the machine follows redirects (N-06, N-07, N-08)
            timeout=self._timeout,
        ) as response:
            yield _Response(response)

    def close(self) -> None:
        if self._owned:
            self._session.close()


def connect(url: str, *, session: requests.Session | None = None, **options: Unpack[Options]) -> EventStream:
    """Open an event stream with requests; iterate it for events. ``session`` is yours to close."""
    machine = Machine(url, **options)
    return EventStream(machine, _Transport(machine, session))


conformance_target = make_target(connect)
