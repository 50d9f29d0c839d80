"""Input a new user gets wrong (issue 25): each gets one line and exit 2, never a silent pass,
a traceback or an "internal error"."""

import http.server
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

NOWHERE = "http://127.0.0.1:9/events"  # never connected to: these are refused before the run




def _one_line(code: int, out: str, err: str) -> str:
    assert code == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err and "internal error" not in err, err
    return lines[0]


@pytest.mark.parametrize("pattern", ["C-0*", "LE-*", "LE-001", "N-11"])
def test_selecting_only_client_rules_or_cases_on_the_server_is_a_usage_error(cli_run, pattern):
    line = _one_line(*cli_run("server", NOWHERE, "--select", pattern))
    assert "client rules or cases" in line and "sse-conformance client" in line


def test_a_selection_that_names_nothing_is_still_a_typo(cli_run):
    line = _one_line(*cli_run("server", NOWHERE, "--select", "ZZ-*"))
    assert "matches no rule or case" in line


@pytest.fixture(scope="module")
def redirects():
    """A loopback server whose /loop redirects to itself and /dead to a port nothing listens on."""
    with socket.socket() as probe:  # a port that was free a moment ago and is closed now
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/events"

    class Redirects(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", "/loop" if self.path == "/loop" else dead)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirects)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", dead
    server.shutdown()
    server.server_close()


def test_a_redirect_loop_is_an_unusable_url(cli_run, redirects):
    base, _ = redirects
    line = _one_line(*cli_run("server", base + "/loop"))
    assert "redirect loop" in line and base + "/loop" in line


def test_a_redirect_to_a_dead_port_names_where_it_was_sent(cli_run, redirects):
    base, dead = redirects
    line = _one_line(*cli_run("server", base + "/dead"))
    assert f"redirected to {dead}" in line and "connection refused" in line


def test_serve_cases_on_a_busy_port_says_so_in_one_line(cli_run):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = _one_line(*cli_run("serve-cases", "--port", str(port), "-k", "LE-001"))
    assert f"cannot listen on 127.0.0.1:{port}" in line and "in use" in line


MALFORMED = [
    b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",  # LineTooLong
    b"GET / HTTP/1.1\r\nHost: x\r\nBad\x1b[2J Header\r\n\r\n",  # BadHttpMessage, with an ESC
]


@pytest.mark.parametrize("command", [["serve-cases", "-k", "LE-001"], ["serve", "aiohttp"]])
@pytest.mark.parametrize("request_bytes", MALFORMED, ids=["line-too-long", "bad-header"])
def test_a_malformed_request_is_logged_in_one_line(command, request_bytes):
    server = subprocess.Popen([sys.executable, "-m", "conformance", *command, "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as Ctrl-C
    try:
        port = int(re.search(r"127\.0\.0\.1:(\d+)", server.stdout.readline())[1])
        with socket.create_connection(("127.0.0.1", port)) as peer:
            peer.sendall(request_bytes)
            assert b" 400 " in peer.recv(100)
        logged = server.stderr.readline()  # the line the request caused, once it is written
    finally:
        server.send_signal(signal.SIGINT)
        rest = server.communicate(timeout=60)[1]
    assert "Error handling request" in logged and "Traceback" not in logged + rest, logged + rest
    assert "\x1b" not in logged + rest and ("LineTooLong" in logged or "BadHttpMessage" in logged)


def test_server_k_with_a_rule_says_k_is_insecure_here(cli_run):
    line = _one_line(*cli_run("server", NOWHERE, "-k", "S-09"))
    assert "-k here is --insecure" in line and "--select S-09" in line


@pytest.mark.parametrize(("args", "meant"), [
    (["server", NOWHERE, "--junit-xlm", "r.xml"], "--junit-xml"),
    (["client", "naive_clients:good_client", "--selct", "C-08"], "--select"),
    (["server", NOWHERE, "--strct"], "--strict"),
])
def test_a_mistyped_flag_gets_a_did_you_mean(cli_run, args, meant):
    assert f"did you mean {meant}?" in _one_line(*cli_run(*args))


def test_an_unknown_flag_with_nothing_close_gets_no_guess(cli_run):
    assert "did you mean" not in _one_line(*cli_run("server", NOWHERE, "--bogus"))


PROGRESS = re.compile(r"[.FWEsix]+( \[ *(\d+%|\d+/\d+ items)\])?")


@pytest.mark.parametrize("quiet", [False, True])
def test_client_quiet_prints_no_progress_marks(cli_run, monkeypatch, quiet):
    monkeypatch.setattr("conformance.client.output.DOTS_AFTER", 0)  # marks at once, as on a TTY
    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "client"))
    code, out, err = cli_run("client", "naive_clients:good_client", "-k", "LE-00", "--chunking", "whole",
                             *(["-q"] if quiet else []))
    assert code == 0, out + err
    marks = [line for line in out.splitlines() if PROGRESS.fullmatch(line)]
    assert (marks == []) is quiet, out


def test_selecting_only_server_rules_on_the_client_is_a_usage_error(cli_run, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "client"))
    line = _one_line(*cli_run("client", "naive_clients:good_client", "--select", "S-09"))
    assert "server rules or cases" in line and "sse-conformance server" in line


def test_a_client_selection_that_leaves_nothing_to_run_is_a_usage_error(cli_run, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parents[1] / "client"))
    line = _one_line(*cli_run("client", "naive_clients:good_client", "--select", "LE-001", "--skip", "C-08"))
    assert "no case to run" in line


@pytest.mark.parametrize("spelling", ["http://127.0.0.1:{port}", "HTTP://LOCALHOST:{port}/events"])
def test_a_dead_url_itself_is_not_called_a_redirect(cli_run, redirects, spelling):
    _, dead = redirects
    url = spelling.format(port=dead.split(":")[2].split("/")[0])
    line = _one_line(*cli_run("server", url))
    assert "connection refused" in line and "redirected" not in line


LOADS = ("import sys\nfrom conformance.cli import main\ncode = main(sys.argv[1:])\n"
         "suites = ('conformance.server.', 'conformance.report.')\n"
         "print(sorted(m for m in sys.modules if m.startswith(suites)))")


@pytest.mark.parametrize(("args", "loads_server"), [
    (["rules"], False), (["cases", "-k", "LE-001"], False), (["server", NOWHERE, "--max-time", "x"], True),
])
def test_a_subcommand_loads_only_its_own_suite(args, loads_server):
    """`rules` and `cases` start without importing the server suite or the report (each
    subcommand's options are built only when it is the one run)."""
    done = subprocess.run([sys.executable, "-c", LOADS, *args], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    loaded = done.stdout.strip().splitlines()[-1]
    assert ("conformance.server.runner" in loaded) == loads_server, done.stdout + done.stderr
    assert "conformance.report." not in loaded, loaded
