"""Hostile clients (issue 25): what a client prints or raises cannot reach the reader raw, its
processes cannot outlive its case, and its memory is bounded."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hostile_clients import NASTY

from conformance.client.processes import MEMORY_FLAGS

HERE = Path(__file__).resolve().parent
RAW = ("\x1b", "\x07", "\r")


def _script(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return f"{sys.executable} {path}"


def _crash_texts(tmp_path: Path) -> dict[str, list[str]]:
    """Two clients that crash with terminal codes: as a Python exception, as a command's stderr."""
    cmd = _script(tmp_path, "crash.py", f"import sys\nsys.stderr.write({NASTY!r})\nsys.exit(3)\n")
    return {"callable": ["hostile_clients:raises_terminal_codes"], "cmd": ["--cmd", cmd + " {url}"]}


@pytest.mark.parametrize("kind", ["callable", "cmd"])
def test_crash_text_is_escaped_on_the_terminal_and_in_the_reports(cli_run, tmp_path, kind):
    junit, html = tmp_path / "r.xml", tmp_path / "r.html"
    code, out, err = cli_run("client", *_crash_texts(tmp_path)[kind], "-k", "LE-001", "--chunking", "whole",
                         "--junit-xml", str(junit), "--html", str(html))
    assert code == 1, out + err
    assert "raised before its first request" in out and "\\x1b[2J\\x1b]0;pwned\\x07 then␍over" in out
    assert not any(c in out + err for c in RAW), repr(out + err)
    failure = ElementTree.parse(junit).getroot().find("testcase/error")  # well-formed XML
    assert "\\x1b[2J" in failure.get("message")
    page = html.read_text()
    assert "\\x1b[2J" in page and not any(c in page for c in RAW)


def test_a_harness_error_string_is_escaped(cli_run, tmp_path):
    harness = _script(tmp_path, "harness.py", "import json\nprint(json.dumps("
                      f"{{'ready': False, 'error': {NASTY!r}}}), flush=True)\ninput()\n")
    code, out, err = cli_run("client", "--harness", harness, "-k", "LE-001", "--chunking", "whole")
    assert code == 2 and "pwned" in err, out + err
    assert not any(c in out + err for c in RAW), repr(out + err)


# A client that leaves its session: a double fork, setsid, then a long sleep whose pid it writes
# down. The process group the suite kills no longer holds the sleep.
ESCAPE = """
import os, subprocess, sys, time
pidfile, linger = sys.argv[1], sys.argv[2] == "linger"
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        sleeper = subprocess.Popen(["sleep", "1000"], env={})  # no mark in its environment
        with open(pidfile + ".tmp", "w") as out:
            out.write(f"{os.getpid()} {sleeper.pid}")
        os.rename(pidfile + ".tmp", pidfile)
        sleeper.wait()
    os._exit(0)
while not os.path.exists(pidfile):
    time.sleep(0.01)
print('{"type": "message", "data": "x", "id": ""}', flush=True)
if linger:
    time.sleep(1000)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:][:1] not in (b"Z", b"X")


def _escaping_suite(tmp_path: Path, linger: str) -> tuple[subprocess.Popen, Path]:
    pidfile = tmp_path / "escaped.pid"
    client = _script(tmp_path, "escape.py", ESCAPE)
    suite = subprocess.Popen(
        [sys.executable, "-m", "conformance", "client", "--cmd", f"{client} {pidfile} {linger} {{url}}",
         "-k", "LE-001", "--chunking", "whole", "-q",
         # lingering: the case must still be waiting when the test sends SIGTERM, however slow
         *(["--timeout-scale", "50"] if linger == "linger" else [])],
        cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return suite, pidfile


def _escaped(pidfile: Path) -> list[int]:
    return [int(pid) for pid in pidfile.read_text().split()]


def test_no_descendant_outlives_its_case(tmp_path):
    suite, pidfile = _escaping_suite(tmp_path, "exit")
    out, err = suite.communicate(timeout=120)
    assert suite.returncode in (0, 1) and "Traceback" not in err, out + err
    survivors = [pid for pid in _escaped(pidfile) if _alive(pid)]
    for pid in survivors:  # do not leave them behind for the next test
        os.kill(pid, signal.SIGKILL)
    assert survivors == []


def test_no_descendant_outlives_sigterm_to_the_suite(tmp_path):
    suite, pidfile = _escaping_suite(tmp_path, "linger")
    while not pidfile.exists() and suite.poll() is None:
        time.sleep(0.05)
    suite.send_signal(signal.SIGTERM)
    out, err = suite.communicate(timeout=60)
    assert suite.returncode == 2 and "interrupted by SIGTERM" in err, out + err
    survivors = [pid for pid in _escaped(pidfile) if _alive(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert survivors == []


def test_a_python_client_past_its_memory_bound_gets_an_error_naming_it(cli_run):
    code, out, err = cli_run("client", "hostile_clients:hoards_memory", "--max-memory", "256M",
                         "-k", "LE-001", "--chunking", "whole")
    assert code == 1, out + err
    assert "MemoryError" in out and f"memory bound of 256 MiB ({MEMORY_FLAGS})" in out, out


def test_a_memory_bound_that_is_not_a_size_is_a_usage_error(cli_run):
    code, _, err = cli_run("client", "hostile_clients:hoards_memory", "--max-memory", "lots")
    assert code == 2 and err.count("\n") == 1 and "--max-memory must be a size" in err, err


def _pytest_face(tmp_path, *options):
    (tmp_path / "test_nothing.py").write_text("")
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", str(tmp_path),
                           "--sse-client", "hostile_clients:hoards_memory", *options],
                          cwd=HERE, capture_output=True, text=True, timeout=120)


def test_the_pytest_face_bounds_a_python_client_with_sse_max_memory(tmp_path):
    done = _pytest_face(tmp_path, "--sse-max-memory", "256M", "--sse-chunking", "whole", "-k", "LE-001")
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "MemoryError" in done.stdout and "memory bound of 256 MiB" in done.stdout, done.stdout[-2000:]


def test_an_sse_max_memory_that_is_not_a_size_is_a_pytest_usage_error(tmp_path):
    done = _pytest_face(tmp_path, "--sse-max-memory", "lots")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout[-2000:] + done.stderr[-2000:]
    assert "--sse-max-memory must be a size" in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_python_worker_that_dies_names_its_memory_bound(cli_run):
    code, out, err = cli_run("client", "hostile_clients:dies", "--max-memory", "256M",
                         "-k", "LE-001", "--chunking", "whole")
    assert code == 1 and f"its memory bound is 256 MiB: {MEMORY_FLAGS}" in out, out + err


NOISE = ("Traceback", "Exception ignored", "never retrieved")

FLOOD = """
import sys
chunk = "x" * (1 << 16)
while True:  # one line that never ends, until the suite kills it
    sys.stdout.write(chunk)
"""


def _suite(*args: str) -> subprocess.CompletedProcess:
    """The CLI in its own interpreter: what it prints at exit (a pipe closed by the garbage
    collector, a future nobody awaited) shows only there."""
    return subprocess.run([sys.executable, "-m", "conformance", "client", *args, "-k", "LE-001",
                           "--chunking", "whole", "-q"],
                          cwd=HERE, capture_output=True, text=True, timeout=300)


def test_a_flooding_command_gets_its_verdict_and_nothing_after_it(tmp_path):
    done = _suite("--cmd", _script(tmp_path, "flood.py", FLOOD) + " {url}")
    assert done.returncode == 1 and "longer than" in done.stdout, done.stdout + done.stderr
    assert not any(noise in done.stderr for noise in NOISE), done.stderr


CLOSES_STDOUT = """
import os, sys, time, urllib.request
urllib.request.urlopen(sys.argv[1]).read()
os.close(1)  # no more reports; the process itself goes on a moment (the suite's looks go on)
time.sleep(1)
"""


def test_a_command_that_closes_its_stdout_early_is_judged_without_noise(tmp_path):
    done = _suite("--cmd", _script(tmp_path, "closes.py", CLOSES_STDOUT) + " {url}")
    assert done.returncode == 1 and "LE-001" in done.stdout, done.stdout + done.stderr
    assert not any(noise in done.stderr for noise in NOISE), done.stderr


def test_a_harness_that_never_says_ready_is_one_line(tmp_path):
    done = _suite("--harness", _script(tmp_path, "silent.py", "import time\ntime.sleep(1000)\n"))
    assert done.returncode == 2 and "did not say ready" in done.stderr, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and not any(noise in done.stderr for noise in NOISE), done.stderr


def test_crash_text_is_escaped_in_the_pytest_face(tmp_path):
    (tmp_path / "test_nothing.py").write_text("")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", str(tmp_path), "--sse-client",
         "hostile_clients:raises_terminal_codes", "--sse-chunking", "whole", "-k", "LE-001"],
        cwd=HERE, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(HERE)})
    assert done.returncode == 1 and "\\x1b[2J" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]
    assert not any(c in done.stdout + done.stderr for c in RAW), repr(done.stdout[-2000:])
