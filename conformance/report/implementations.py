"""Every implementation the report runs, as data: one TOML file per server or client.

The built-in rows are ``rows/*.toml`` beside this module; a library author writes one such file
for their own library and runs ``sse-conformance report --implementation FILE`` without editing
Python (docs/report-rows.md has the format). Nothing is run at load time; ``version``,
``prepare``, ``start`` and ``targets`` are called by the runner, and any exception they raise
becomes the row's "could not be installed or started" reason.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from .. import __version__
from . import install
from .versions import command_version, npm_version, python_version, target_dir_version

__all__ = ["CLIENTS", "ROWS", "SERVERS", "Probe", "Row", "RowError", "builtin_rows", "load_row"]

REPORT_DIR = Path(__file__).resolve().parent
ROWS_DIR = REPORT_DIR / "rows"
NODE_DIR = REPORT_DIR / "node"
HEARTBEAT = 0.05  # reference servers: a short heartbeat so idle endpoints show comments (S-18)
ORIGIN = "http://report.example"
ROLES = ("server", "client")
CLIENT_KINDS = ("python", "harness", "command")
SERVER_KINDS = ("reference", "command", "proxy")


class RowError(ValueError):
    """A row file that cannot be used; the message names the file and the problem in one line."""


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


# the two endpoints every third-party app serves (conformance/report/servers/content.json)
APP_PROBES = (Probe("events", "/events", resume=True), Probe("openai", "/openai", profile="openai"))


def reference_probes() -> tuple[Probe, ...]:
    """Every endpoint of the reference servers, as the server suite should request it."""
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


_reference_probes = reference_probes  # the name older callers import


def reference_start(kind: str) -> contextlib.AbstractContextManager[str]:
    """A reference server in a thread, with the report's heartbeat and allowed origin."""
    import reference_servers

    return reference_servers.running(kind, heartbeat=HEARTBEAT, allowed_origins=(ORIGIN,))


@dataclass(frozen=True)
class Row:
    """One implementation as its file describes it; the methods do what the file says."""

    name: str
    role: str
    language: str
    origin: str
    path: Path
    note: str = ""
    version_spec: dict[str, Any] = field(default_factory=dict)
    install_spec: dict[str, Any] = field(default_factory=dict)
    client: dict[str, Any] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)
    unavailable: str = ""
    timeout_scale: float = 1.0
    concurrency: int | None = None  # a client row's runs at once (None: the suite's default)
    cost: float = 30.0  # seconds one run takes, about: the costliest start first, --shard balances by it
    chunkings: tuple[str, ...] | None = None  # a client run under these chunkings only (the note says why)

    @property
    def capabilities(self) -> tuple[str, ...]:
        return tuple(self.client.get("capabilities", ()))

    # -- placeholders, install, version ----------------------------------------------------

    def expand(self, argv: list[str], cache: Path) -> list[str]:
        """Fill ``{python}``, ``{report}``, ``{here}``, ``{node}``, ``{cache}``, ``{pip_target}``;
        others (``{url}``) are left for the client suite."""
        values = {
            "{python}": sys.executable,
            "{report}": str(REPORT_DIR),
            "{here}": str(self.path.parent),
            "{node}": str(install.node_dir(cache)),
            "{cache}": str(cache),
            "{pip_target}": str(install.target_dir(cache, self.install_spec.get("pip_target", ""))),
        }
        out = []
        for arg in argv:
            for key, value in values.items():
                arg = arg.replace(key, value)
            out.append(arg)
        return out

    def npm(self) -> dict[str, str]:
        return dict(self.install_spec.get("npm", {}))

    def prepare(self, cache: Path) -> None:
        """Install what the row needs into the private cache (no-op when it is there)."""
        if self.unavailable:
            raise RuntimeError(self.unavailable)
        if self.npm():
            install.npm_packages(cache, self.npm())
        if self.install_spec.get("pip_target"):
            install.pip_target(cache, self.install_spec["pip_target"])

    def version(self, cache: Path) -> str:
        spec = self.version_spec
        probes: dict[str, Callable[[Any], str]] = {
            "suite": lambda _: __version__,
            "text": str,
            "python": python_version,
            "npm": lambda name: npm_version(install.node_dir(cache), name),
            "command": lambda argv: command_version(self.expand(list(argv), cache)),
            "pip_target": lambda name: target_dir_version(
                name, install.target_dir(cache, self.install_spec.get("pip_target", ""))
            ),
        }
        for key, probe in probes.items():
            if key in spec:
                return probe(spec[key])
        return ""

    # -- servers ---------------------------------------------------------------------------

    def probes(self) -> tuple[Probe, ...]:
        if "reference" in self.server or "proxy" in self.server:
            return reference_probes()
        listed = self.server.get("probes")
        if listed:
            return tuple(
                Probe(**{**p, "body": p["body"].encode() if p.get("body") else None}) for p in listed
            )
        return APP_PROBES

    def interop_probe(self) -> Probe:
        """The endpoint the interop matrix uses: the main generic one. Behind the reference
        servers, events 0.2 s apart with a 0.05 s heartbeat, so every gap holds comments whatever
        the machine's load (what a client makes of them is then the same on every run)."""
        if "reference" in self.server or "proxy" in self.server:
            return Probe("events", "/events?count=3&interval=0.2&heartbeat=0.05", resume=True)
        return next(p for p in self.probes() if p.profile == "generic")

    @contextlib.contextmanager
    def start(self, cache: Path) -> Iterator[str]:
        """Start the server (or the proxy and its upstream) and yield its base URL."""
        from .process import announced_url

        if "reference" in self.server:
            with reference_start(self.server["reference"]) as base:
                yield base
        elif "proxy" in self.server:
            from .nginx import running

            with (
                reference_start(self.server.get("upstream", "aiohttp")) as upstream,
                running(upstream, self.server["proxy"]) as base,
            ):
                yield base
        else:
            with announced_url(self.expand(list(self.server["command"]), cache)) as base:
                yield base

    # -- clients ---------------------------------------------------------------------------

    def targets(self, cache: Path) -> dict[str, Any]:
        """profile -> a target the client suite accepts (Python callable, harness or command)."""
        from ..client.targets import CommandTarget, HarnessTarget, load_target

        caps = frozenset(self.capabilities)
        found: dict[str, Any] = {}
        if "python" in self.client:
            found["generic"] = load_target(self.client["python"])
        if "openai" in self.client:
            found["openai"] = load_target(self.client["openai"])
        if "harness" in self.client:
            argv = self.expand(list(self.client["harness"]), cache)
            found["generic"] = HarnessTarget(argv, caps, self.name)
        if "command" in self.client:
            import shlex

            command = " ".join(shlex.quote(a) for a in self.expand(list(self.client["command"]), cache))
            found["generic"] = CommandTarget(command.replace("'{url}'", "{url}"), capabilities=caps)
        return found


REQUIRED = ("name", "role", "language")  # docs/report.md marks each "required"


def _check(data: dict[str, Any], path: Path) -> None:
    def fail(problem: str) -> None:
        raise RowError(f"{path}: {problem}")

    for key in REQUIRED:
        if not isinstance(data.get(key), str) or not data[key]:
            fail(f"'{key}' must be a non-empty string")
    if data["role"] not in ROLES:
        fail(f"role must be one of {', '.join(ROLES)}, not {data['role']!r}")
    if data.get("unavailable"):
        return
    section = data.get(data["role"])
    kinds = CLIENT_KINDS if data["role"] == "client" else SERVER_KINDS
    if not isinstance(section, dict) or not any(k in section for k in kinds):
        fail(f"a {data['role']} needs a [{data['role']}] table with one of: {', '.join(kinds)}")


def load_row(path: str | Path) -> Row:
    """Read one row file (TOML, or JSON of the same shape); a bad file is one ``RowError`` line."""
    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix != ".json" else _json(text)
    except (OSError, ValueError) as error:
        raise RowError(f"{path}: {error}") from None
    _check(data, path)
    return Row(
        name=data["name"],
        role=data["role"],
        language=data["language"],
        origin=data.get("origin", "third-party"),
        path=path,
        note=data.get("note", ""),
        version_spec=dict(data.get("version", {})),
        install_spec=dict(data.get("install", {})),
        client=dict(data.get("client", {})),
        server=dict(data.get("server", {})),
        unavailable=data.get("unavailable", ""),
        timeout_scale=float(data.get("timeout_scale", 1.0)),
        concurrency=int(data["concurrency"]) if data.get("concurrency") else None,
        cost=float(data.get("cost", 5.0 if data["role"] == "server" else 30.0)),
        chunkings=tuple(data["chunkings"]) if data.get("chunkings") else None,
    )


def _json(text: str) -> dict[str, Any]:
    import json

    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a row is a JSON object")
    return data


def builtin_rows() -> tuple[Row, ...]:
    """The rows shipped with the suite, in file-name order (servers, then clients)."""
    return tuple(load_row(p) for p in sorted(ROWS_DIR.glob("*.toml")))


ROWS = builtin_rows()
SERVERS = tuple(r for r in ROWS if r.role == "server")
CLIENTS = tuple(r for r in ROWS if r.role == "client")


def iter_entries() -> Iterator[Row]:
    yield from ROWS
