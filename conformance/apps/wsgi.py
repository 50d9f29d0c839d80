"""A threaded HTTP/1.1 server for WSGI apps that streams: each yielded chunk goes out at once.

Why not wsgiref: it answers HTTP/1.0 and closes to end the body, which is not how a WSGI app
is deployed (gunicorn, waitress and werkzeug speak HTTP/1.1 with chunked bodies). One thread per
connection, so an endless stream never blocks the HEAD or the preflight the suite sends beside it.
"""

from __future__ import annotations

import io
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

MAX_BODY = 16 * 1024 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # each chunk on the wire when written, as a real server does
    app: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # every method goes to the app
            return self._handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the suite's output is the report, not an access log."""

    def _environ(self, body: bytes) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        host, port = self.server.server_address[:2]
        environ = {
            "REQUEST_METHOD": self.command, "SCRIPT_NAME": "", "PATH_INFO": unquote(path, "latin-1"),
            "QUERY_STRING": query, "SERVER_NAME": host, "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version, "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(len(body)) if body else "",
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY)) if length > 0 else b""
        response = _Response(self)
        result: Any = ()
        try:
            result = self.app(self._environ(body), response.start)
            for chunk in result:
                response.write(chunk)
            response.finish()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away: stop the app's iterator
        except Exception as error:  # the app crashed: 500, or a cut body once streaming began
            self.close_connection = True
            if not response.sent:
                response.start("500 Internal Server Error", [("Content-Type", "text/plain")])
                response.write(f"the app raised {type(error).__name__}: {error}".encode())
                response.finish()
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


class _Response:
    """Status and headers held until the first body byte (PEP 3333), then chunked or sized."""

    def __init__(self, handler: _Handler) -> None:
        self.handler = handler
        self.status = ""
        self.headers: list[tuple[str, str]] = []
        self.sent = False
        self.chunked = False

    def start(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info and self.sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status, self.headers = status, list(headers)
        return self.write

    def _send_head(self) -> None:
        h = self.handler
        code, _, reason = self.status.partition(" ")
        h.send_response_only(int(code), reason or None)
        names = {name.lower() for name, _ in self.headers}
        no_body = h.command == "HEAD" or int(code) in (204, 304)
        self.chunked = "content-length" not in names and not no_body
        for name, value in self.headers:
            if name.lower() not in HOP_BY_HOP:
                h.send_header(name, value)
        if self.chunked:
            h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        self.sent = True

    def write(self, data: bytes) -> None:
        if not self.sent:
            self._send_head()
        if not data or self.handler.command == "HEAD":
            return
        out = self.handler.wfile
        out.write(b"%x\r\n%s\r\n" % (len(data), data) if self.chunked else data)
        out.flush()

    def finish(self) -> None:
        if not self.sent:
            self._send_head()
        if self.chunked:
            self.handler.wfile.write(b"0\r\n\r\n")
            self.handler.wfile.flush()


class WsgiServer:
    """One WSGI app on 127.0.0.1:<free port>, a thread per connection, until :meth:`stop`."""

    def __init__(self, app: Any) -> None:
        handler = type("Handler", (_Handler,), {"app": staticmethod(app)})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="sse-wsgi-app", daemon=True)

    def start(self) -> str:
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
