"""The legacy sseclient's adapter: each run in a child forked from one import, its lines relayed
whole, its end carrying the child's CPU time, a cancel ending the child.

Driven over the persistent protocol with a stand-in ``sseclient`` module in the library folder
(the real one is exercised in test_client_rows.py): what is tested here is the adapter's relay.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from conformance.report import clients

HARNESS = Path(clients.__file__).with_name("legacy_sseclient_harness.py")

STAND_IN = textwrap.dedent('''
    import os, time

    class Message:
        def __init__(self, data):
            self.event, self.data, self.id = "", data, "7"

    class SSEClient:
        def __init__(self, url):
            self.url = url

        def __iter__(self):
            kind, _, size = self.url.rpartition("/")[2].partition("-")
            if kind == "big":  # one event of megabytes, written in many pieces by the child
                yield Message("x" * int(size))
                raise ValueError("invalid literal for int() with base 10: ''")
            if kind == "burn":
                start = time.process_time()
                while time.process_time() - start < 0.3:
                    pass
                return
            with open(os.environ["HANG_PID_FILE"], "w") as out:
                out.write(str(os.getpid()))
            time.sleep(3600)  # "hang": reconnecting for ever, as the real one does after a 204
''')


def _harness(tmp_path: Path) -> subprocess.Popen:
    (tmp_path / "sseclient.py").write_text(STAND_IN, encoding="utf-8")
    (tmp_path / "sseclient-0.0.27.dist-info").mkdir()
    env = {**os.environ, "HANG_PID_FILE": str(tmp_path / "hang.pid")}
    return subprocess.Popen([sys.executable, str(HARNESS), str(tmp_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env)


def _say(proc: subprocess.Popen, **message: object) -> None:
    proc.stdin.write(json.dumps(message).encode() + b"\n")
    proc.stdin.flush()


def _hear(proc: subprocess.Popen) -> dict:
    return json.loads(proc.stdout.readline())


def test_a_run_s_event_of_megabytes_comes_whole_then_its_end_with_the_child_s_cpu(tmp_path: Path):
    proc = _harness(tmp_path)
    try:
        _say(proc, cmd="start")
        ready = _hear(proc)
        assert ready["ready"] is True and ready["implementation"]["version"] == "0.0.27"
        _say(proc, cmd="run", seq=1, url=f"http://127.0.0.1:9/big-{3 << 20}", profile="generic")
        event = _hear(proc)
        assert event["seq"] == 1 and len(event["event"]["data"]) == 3 << 20
        assert (event["event"]["type"], event["event"]["id"]) == ("message", "7")
        end = _hear(proc)
        assert (end["seq"], end["end"]) == (1, "raised") and end["error"].startswith("ValueError: invalid")
        _say(proc, cmd="run", seq=2, url="http://127.0.0.1:9/burn", profile="generic")
        burnt = _hear(proc)
        assert (burnt["seq"], burnt["end"]) == (2, "returned") and burnt["cpu_seconds"] >= 0.25
    finally:
        proc.kill()
        proc.wait()


def test_a_cancel_ends_the_child_of_a_run_that_never_ends(tmp_path: Path):
    proc = _harness(tmp_path)
    try:
        _say(proc, cmd="start")
        _hear(proc)
        _say(proc, cmd="run", seq=5, url="http://127.0.0.1:9/hang", profile="generic")
        pid_file = tmp_path / "hang.pid"
        for _ in range(10_000):  # a guard against a broken adapter hanging the test, not a bound
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.001)
        child = int(pid_file.read_text())
        _say(proc, cmd="cancel", seq=5)
        assert _hear(proc) == {"seq": 5, "cancelled": True, "lingering": False}
        assert not Path(f"/proc/{child}").exists()  # killed and reaped before the answer
        _say(proc, cmd="stop")
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
