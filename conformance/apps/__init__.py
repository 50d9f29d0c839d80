"""In-process targets: serve a user's ASGI or WSGI app on 127.0.0.1 for the length of a run.

Why a real server and not a test transport: httpx's ASGITransport and WSGI test clients buffer
the whole response, so an endless stream never ends and chunk timing is lost. ASGI apps are
served by uvicorn, WSGI apps by a small threaded HTTP/1.1 server that writes each chunk as the
app yields it (``wsgi.py``). Both bind port 0 and are stopped when the block ends.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..imports import SpecError, import_spec

__all__ = ["App", "AppError", "load_app", "serving"]


class AppError(ValueError):
    """The app cannot be loaded or served (a usage error: exit 2, one line)."""


@dataclass(frozen=True)
class App:
    """A loaded app: the callable, a name for reports, and its interface (asgi or wsgi)."""

    obj: Any
    name: str
    interface: str


def _interface(obj: Any) -> str:
    """ASGI 3 apps are coroutine functions (or objects with an async ``__call__``), as uvicorn sees it."""
    call = getattr(obj, "__call__", None)  # noqa: B004 - the method itself, not callable()
    if inspect.iscoroutinefunction(obj) or inspect.iscoroutinefunction(call):
        return "asgi"
    return "wsgi"


def _import(spec: str) -> Any:
    try:
        return import_spec(spec, example="myproject.main:app")
    except SpecError as error:
        raise AppError(f"--app {error}") from None


def load_app(app: Any) -> App:
    """An app object, or ``"module:attribute"`` imported from the working directory."""
    if isinstance(app, App):
        return app
    name = app if isinstance(app, str) else _name(app)
    obj = _import(app) if isinstance(app, str) else app
    if not callable(obj):
        raise AppError(f"{name} is not an ASGI or WSGI app (not callable)")
    return App(obj, name, _interface(obj))


def _name(obj: Any) -> str:
    """``module:name`` as a person would write it: functions by their own name, app objects by
    the module variable that holds them (found among imported modules), else the class name."""
    if getattr(obj, "__qualname__", None) and getattr(obj, "__module__", None):
        return f"{obj.__module__}:{obj.__qualname__}"
    library = type(obj).__module__.split(".")[0]
    for module_name, module in list(sys.modules.items()):
        if module is None or module_name.split(".")[0] == library:
            continue
        for attr, value in list(getattr(module, "__dict__", {}).items()):
            if value is obj and not attr.startswith("_"):
                return f"{module_name}:{attr}"
    return f"{type(obj).__name__} app"


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) for the block; yield the base URL, no trailing slash."""
    loaded = load_app(app)
    if loaded.interface == "asgi":
        from .asgi import AsgiServer as server_class
    else:
        from .wsgi import WsgiServer as server_class
    server = server_class(loaded.obj)
    try:
        yield server.start()
    finally:
        server.stop()
