"""``sse-conformance serve``: starts, answers, stops on a signal; bad input exits 2 in one line."""

from __future__ import annotations

import argparse
import os
import select
import signal
import socket
import subprocess
import sys

import httpx
import pytest

from conformance.cli import main
from conformance.sse import parse
from reference_servers.cli import configure, settings_from

COMMAND = [sys.executable, "-m", "conformance"]
START_BOUND = 30.0


def _serve(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "ALLOWED_ORIGINS": ""}
    return subprocess.Popen([*COMMAND, "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, preexec_fn=as_in_a_terminal)


def as_in_a_terminal() -> None:
    """Ctrl-C as a terminal delivers it: a test run started in the background (``cmd &``)
    ignores SIGINT, and a child inherits that, so the command would never see it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_starts_answers_and_stops(stop):
    """One kind is enough here: the command serves both through the ServerThread that every
    other test runs in-process (the FastAPI process only takes longer to import)."""
    process = _serve("aiohttp", "--port", "0", "--heartbeat", "0.05")
    try:
        ready, _, _ = select.select([process.stdout], [], [], START_BOUND)
        assert ready, "serve printed nothing"
        line = process.stdout.readline()
        url = line.split(" on ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        response = httpx.get(url + "/events?count=2&interval=0", timeout=10)
        assert response.status_code == 200
        assert [e.event for e in parse(response.content)] == ["message", "message", "complete"]
        process.send_signal(stop)
        assert process.wait(timeout=15) == 0
        assert process.stderr.read() == ""
    finally:
        process.kill()
        process.wait()


def test_a_bad_kind_exits_2_with_one_line():
    result = subprocess.run([*COMMAND, "serve", "nope"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "invalid choice: 'nope'" in result.stderr


@pytest.mark.parametrize("args", [["aiohttp", "--port", "-1"], ["fastapi", "--port", "x"],
                                  ["aiohttp", "--heartbeat", "-1", "--port", "0"], []])
def test_bad_input_exits_2_with_one_line(args, capsys):
    assert main(["serve", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_busy_port_exits_2_with_one_line(capsys):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        assert main(["serve", "aiohttp", "--port", str(busy.getsockname()[1])]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "cannot listen" in err


def test_help_lists_every_route(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for path in ("/events", "/stream/{agent_id}", "/v1/chat/completions", "/chat/sse", "/stats"):
        assert path in out


def test_serve_sets_the_send_and_header_timeouts_and_body_limit():
    parser = argparse.ArgumentParser()
    configure(parser)
    args = parser.parse_args(["aiohttp", "--send-timeout", "2.5", "--header-timeout", "3",
                              "--max-body", "65536"])
    settings = settings_from(args)
    assert (settings.send_timeout, settings.header_timeout, settings.max_body) == (2.5, 3.0, 65536)


@pytest.mark.parametrize("args", [["--heartbeat", "1e-7"], ["--send-timeout", "-1"],
                                  ["--interval", "0.00001"], ["--max-body", "12"]])
def test_values_that_flood_or_starve_exit_2_with_one_line(args, capsys):
    assert main(["serve", "aiohttp", "--port", "0", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and args[0].strip("-").replace("-", "_") in err
