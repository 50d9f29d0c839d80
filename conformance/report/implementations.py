"""Every implementation the report runs, as data: one row per server or client.

Adding an implementation is adding a row here (and, for a third-party one, its app or adapter
module). Nothing is run at import time; ``version`` and ``prepare`` are called by the runner,
and any exception they raise becomes the "could not be installed or started" reason.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from . import install
from .process import announced_url, python_module_command
from .versions import npm_version, python_version, target_dir_version

__all__ = ["CLIENTS", "SERVERS", "ClientEntry", "Probe", "ServerEntry"]

REPORT_DIR = Path(__file__).resolve().parent
NODE_DIR = REPORT_DIR / "node"
HEARTBEAT = 0.05  # reference servers: a short heartbeat so idle endpoints show comments (S-18)
ORIGIN = "http://report.example"


@dataclass(frozen=True)
class Probe:
    """One endpoint of a server and how the server suite should request it."""

    name: str
    path: str
    profile: str = "generic"
    method: str = "GET"
    body: bytes | None = None
    resume: bool = False
    idle: float | None = None
    origin: str | None = None

    def suite_kwargs(self) -> dict[str, Any]:
        headers = (("Content-Type", "application/json"),) if self.body is not None else ()
        return dict(
            profile=self.profile,
            method=self.method,
            headers=headers,
            data=self.body,
            resume=self.resume,
            idle=self.idle,
            origin=self.origin,
        )


@dataclass(frozen=True)
class ServerEntry:
    """A server: how to start it (a context manager yielding its base URL) and what to probe."""

    name: str
    language: str
    origin: str
    version: Callable[[], str]
    start: Callable[[], contextlib.AbstractContextManager[str]]
    probes: Callable[[], tuple[Probe, ...]]
    note: str = ""


@dataclass(frozen=True)
class ClientEntry:
    """A client: ``targets(cache)`` maps a profile to a target the client suite accepts."""

    name: str
    language: str
    origin: str
    version: Callable[[Path], str]
    targets: Callable[[Path], dict[str, Any]]
    prepare: Callable[[Path], None] = field(default=lambda cache: None)
    capabilities: tuple[str, ...] = ()
    note: str = ""
    timeout_scale: float = 1.0


# -- servers -----------------------------------------------------------------------------------


def _reference_probes() -> tuple[Probe, ...]:
    import reference_servers

    return tuple(
        Probe(
            ep.name,
            ep.url_path,
            ep.profile,
            ep.method,
            ep.body_text() if ep.body is not None else None,
            ep.resumable,
            HEARTBEAT * 4 if ep.idle else None,
            ORIGIN,
        )
        for ep in reference_servers.ENDPOINTS
    )


def _reference_start(kind: str) -> contextlib.AbstractContextManager[str]:
    import reference_servers

    return reference_servers.running(kind, heartbeat=HEARTBEAT, allowed_origins=(ORIGIN,))


def _third_party_probes() -> tuple[Probe, ...]:
    return (Probe("events", "/events", resume=True), Probe("openai", "/openai", profile="openai"))


def _app(module: str) -> Callable[[], contextlib.AbstractContextManager[str]]:
    return lambda: announced_url(python_module_command(f"conformance.report.servers.{module}"))


def _reference_server(kind: str) -> ServerEntry:
    return ServerEntry(
        f"reference {kind}",
        "Python",
        "reference",
        lambda: __version__,
        functools.partial(_reference_start, kind),
        _reference_probes,
        note=f"This project's {kind} reference server, every endpoint of reference_servers.ENDPOINTS.",
    )


def _third_party_server(name: str, distribution: str, module: str, note: str) -> ServerEntry:
    return ServerEntry(
        name,
        "Python",
        "third-party",
        functools.partial(python_version, distribution),
        _app(module),
        _third_party_probes,
        note=note,
    )


SERVERS: tuple[ServerEntry, ...] = (
    _reference_server("aiohttp"),
    _reference_server("fastapi"),
    _third_party_server(
        "sse-starlette",
        "sse-starlette",
        "sse_starlette_app",
        "EventSourceResponse over an async generator of dicts (its README), under uvicorn.",
    ),
    _third_party_server(
        "FastAPI fastapi.sse",
        "fastapi",
        "fastapi_native_app",
        "FastAPI's native EventSourceResponse + ServerSentEvent(raw_data=...), under uvicorn.",
    ),
    _third_party_server(
        "aiohttp-sse",
        "aiohttp-sse",
        "aiohttp_sse_app",
        "sse_response(request) and resp.send(data, event=, id=) (its README).",
    ),
    _third_party_server(
        "Litestar",
        "litestar",
        "litestar_app",
        "ServerSentEvent over ServerSentEventMessage items (its docs), under uvicorn.",
    ),
    _third_party_server(
        "Flask (hand-rolled)",
        "flask",
        "flask_app",
        'The naive f"data: {x}\\n\\n" generator in a text/event-stream Response, werkzeug server.',
    ),
)


# -- clients -----------------------------------------------------------------------------------


def _python_client(module: str, *, openai: bool = False) -> Callable[[Path], dict[str, Any]]:
    def targets(cache: Path) -> dict[str, Any]:
        import importlib

        mod = importlib.import_module(f"conformance.report.{module}")
        found = {"generic": mod.target}
        if openai:
            found["openai"] = mod.openai_target
        return found

    return targets


def _reference_client(transport: str) -> ClientEntry:
    return ClientEntry(
        f"reference {transport}",
        "Python",
        "reference",
        lambda cache: __version__,
        _python_client_ref(transport),
        note=f"This project's reference client over {transport} (reference_clients.{transport}_client).",
    )


def _python_client_ref(transport: str) -> Callable[[Path], dict[str, Any]]:
    def targets(cache: Path) -> dict[str, Any]:
        import importlib

        return {
            "generic": importlib.import_module(f"reference_clients.{transport}_client").conformance_target
        }

    return targets


def _third_party_client(
    name: str, distribution: str, module: str, note: str, openai: bool = False
) -> ClientEntry:
    return ClientEntry(
        name,
        "Python",
        "third-party",
        lambda cache: python_version(distribution),
        _python_client(f"clients.{module}", openai=openai),
        note=note,
    )


def _command(*argv: str) -> str:
    import shlex

    return " ".join(shlex.quote(a) for a in argv) + " {url}"


def _legacy_sseclient_targets(cache: Path) -> dict[str, Any]:
    from ..client.targets import CommandTarget

    script = REPORT_DIR / "clients" / "legacy_sseclient_cmd.py"
    return {
        "generic": CommandTarget(
            _command(sys.executable, str(script), str(install.legacy_dir(cache))),
            capabilities=frozenset({"reconnect"}),
        )
    }


def _node_targets(script: str, *args: str, capabilities: frozenset[str]) -> Callable[[Path], dict[str, Any]]:
    """A Node adapter behind the persistent protocol: one process serves every case."""

    def targets(cache: Path) -> dict[str, Any]:
        from ..client.targets import HarnessTarget

        node = install.node_dir(cache)
        argv = ["node", str(NODE_DIR / script), str(node), *args]
        return {"generic": HarnessTarget(argv, capabilities=capabilities)}

    return targets


def _node_client(
    name: str, package: str, script: str, *args: str, capabilities: frozenset[str], note: str
) -> ClientEntry:
    return ClientEntry(
        name,
        "JavaScript (Node)",
        "third-party",
        lambda cache: npm_version(install.node_dir(cache), package),
        _node_targets(script, *args, capabilities=capabilities),
        prepare=install.npm_packages,
        note=note,
    )


CLIENTS: tuple[ClientEntry, ...] = (
    _reference_client("aiohttp"),
    _reference_client("httpx"),
    _reference_client("requests"),
    _third_party_client(
        "httpx-sse",
        "httpx-sse",
        "httpx_sse_client",
        "connect_sse(httpx.Client(), method, url) and iter_sse() (its README).",
    ),
    _third_party_client(
        "sseclient-py",
        "sseclient-py",
        "sseclient_py_client",
        "SSEClient(requests.get(url, stream=True)).events() (its README).",
    ),
    _third_party_client(
        "requests-sse",
        "requests-sse",
        "requests_sse_client",
        "with EventSource(url) as es: for e in es (its README), library defaults.",
    ),
    _third_party_client(
        "aiohttp-sse-client2",
        "aiohttp-sse-client2",
        "aiohttp_sse_client2_client",
        "async with EventSource(url) as es: async for e in es (its README), library defaults.",
    ),
    _third_party_client(
        "openai SDK",
        "openai",
        "openai_sdk_client",
        "generic: openai._streaming.SSEDecoder over httpx bytes; openai profile: the public "
        "chat.completions.create(stream=True) path, its request pinned to the case URL.",
        openai=True,
    ),
    _third_party_client(
        "anthropic SDK decoder",
        "anthropic",
        "anthropic_sdk_client",
        "anthropic._streaming.SSEDecoder over httpx bytes (what messages.create(stream=True) runs).",
    ),
    ClientEntry(
        "sseclient (legacy, btubbs)",
        "Python",
        "third-party",
        lambda cache: target_dir_version("sseclient", install.legacy_dir(cache)),
        _legacy_sseclient_targets,
        prepare=install.legacy_sseclient,
        note="for msg in SSEClient(url) (its README); installed with pip --target in a private "
        "directory because it shares the module name sseclient with sseclient-py.",
    ),
    _node_client(
        "eventsource v2 (npm)",
        "es2",
        "eventsource.mjs",
        "es2",
        capabilities=frozenset({"headers"}),
        note="new EventSource(url) in Node (npm eventsource@2, EventEmitter-based).",
    ),
    _node_client(
        "eventsource v5 (npm)",
        "es5",
        "eventsource.mjs",
        "es5",
        capabilities=frozenset(),
        note="new EventSource(url) in Node (npm eventsource@5, fetch-based; engines says node>=22.12).",
    ),
    _node_client(
        "@microsoft/fetch-event-source",
        "@microsoft/fetch-event-source",
        "fetch_event_source.mjs",
        capabilities=frozenset(),
        note="fetchEventSource(url, {onmessage}) in Node with window/document shims (browser-first).",
    ),
)


def iter_entries() -> Iterator[ServerEntry | ClientEntry]:
    yield from SERVERS
    yield from CLIENTS
