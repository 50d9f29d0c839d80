"""The persistent adapter protocol: every message both ways follows the shipped JSON Schema, a
Python callable and a Node adapter run behind it, and a broken adapter is one clear error."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sys
import time

import jsonschema
import naive_clients as nc
import pytest

from conformance.client.protocol import SCHEMA_PATH, Harness
from conformance.client.runner import run_client_suite
from conformance.client.targets import HarnessTarget, TargetError
from conformance.results import Outcome

SCHEMA = json.loads(SCHEMA_PATH.read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


@pytest.fixture
def wire(monkeypatch):
    """Every command the suite sends and every message an adapter sends, as parsed JSON."""
    sent: list[dict] = []
    received: list[dict] = []
    send, dispatch = Harness._send, Harness._dispatch

    async def record_send(self, message):
        sent.append(message)
        await send(self, message)

    async def record_dispatch(self, line):
        received.append(json.loads(line))
        await dispatch(self, line)

    monkeypatch.setattr(Harness, "_send", record_send)
    monkeypatch.setattr(Harness, "_dispatch", record_dispatch)
    return sent, received


def invalid(messages: list[dict]) -> list[str]:
    return [f"{m}: {e.message}" for m in messages for e in VALIDATOR.iter_errors(m)][:5]


def test_the_schema_itself_is_valid_and_tells_commands_from_messages():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert not invalid([{"cmd": "run", "seq": 1, "url": "http://x", "profile": "generic", "inputs": {}}])
    assert invalid([{"cmd": "run", "seq": 0, "url": "http://x"}])  # seq from 1, profile and inputs needed
    assert invalid([{"seq": 3, "event": {"type": "message"}}])  # an event without data
    assert invalid([{"seq": 3, "end": "finished"}])  # not an ending the protocol knows


def test_a_python_worker_speaks_the_protocol_exactly(wire):
    sent, received = wire
    for target, pattern, profile in [
        (nc.good_client, "LE-00*", "generic"),  # events, end returned
        (nc.crashing_client, "LE-001", "generic"),  # end raised
        (nc.garbage_client, "LE-001", "generic"),  # end broken
        (nc.hanging_client, "LE-001", "generic"),  # cancel / cancelled
        (nc.openai_client, "OA-001", "openai"),  # text
        (nc.notifying_client, "NT-00[14]", "generic"),  # open and error notifications
    ]:
        run_client_suite(target, pattern=pattern, profile=profile, chunkings=["whole"], timeout_scale=0.3)
    assert not invalid(sent), invalid(sent)
    assert not invalid(received), invalid(received)
    kinds = {next(k for k in m if k != "seq") for m in received}
    assert {"ready", "thread", "event", "end", "text", "open", "error"} <= kinds
    assert {m["cmd"] for m in sent} >= {"start", "run", "cancel", "stop"}  # the hang is cancelled
    assert {m["end"] for m in received if "end" in m} >= {"returned", "raised", "broken"}


def test_an_adapter_that_cannot_start_is_one_usage_error_line():
    target = HarnessTarget([sys.executable, "-c", "import sys; sys.stderr.write('no such client\\n')"])
    with pytest.raises(TargetError, match=r"exited .* before it was ready.*no such client"):
        run_client_suite(target, pattern="LE-001", chunkings=["whole"])


def test_an_adapter_that_prints_garbage_instead_of_ready_is_refused():
    target = HarnessTarget([sys.executable, "-c", "print('hello'); import time; time.sleep(30)"])
    with pytest.raises(TargetError, match="instead of the ready message"):
        run_client_suite(target, pattern="LE-001", chunkings=["whole"])


def test_a_worker_that_cannot_import_its_callable_says_why():
    with pytest.raises(TargetError, match="no_such_module"):
        run_client_suite(
            HarnessTarget([sys.executable, "-m", "conformance.client.worker", "no_such_module:f"]),
            pattern="LE-001",
            chunkings=["whole"],
        )


@pytest.fixture(scope="module")
def node_modules(tmp_path_factory):
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed")
    from conformance.report import install

    cache = install.default_cache()
    try:
        install.npm_packages(cache, {"es2": "npm:eventsource@^2.0.2", "es5": "npm:eventsource@^5.1.5"})
    except RuntimeError as error:
        pytest.skip(f"npm packages cannot be installed here: {error}")
    return install.node_dir(cache)


def test_a_node_eventsource_adapter_runs_every_case_in_one_process(node_modules, wire):
    from conformance.report.implementations import NODE_DIR

    sent, received = wire
    target = HarnessTarget(["node", str(NODE_DIR / "eventsource.mjs"), str(node_modules), "es2"])
    report = run_client_suite(target, pattern="LE-0[01]*", chunkings=["whole", "1-byte"])
    starts = [m for m in sent if m["cmd"] == "start"]
    runs = [m for m in sent if m["cmd"] == "run"]
    assert len(runs) > len(starts) >= 1  # several cases per process
    assert not invalid(sent) and not invalid(received), invalid(sent) + invalid(received)
    ready = next(m for m in received if "ready" in m)
    assert ready["implementation"]["language"] == "javascript"
    assert "reconnect" in report.meta["capabilities"]  # announced by the adapter itself
    passed = {r.case for r in report.results if r.outcome is Outcome.PASS}
    assert "LE-001" in passed  # CR, LF and CRLF endings: eventsource v2 gets these right


def test_node_eventsource_adapters_report_open_and_error_as_notifications(node_modules, wire):
    """The adapter forwards EventSource's own open and error events: eventsource v5 fires them
    as the spec does; v2 ignores the Content-Type, so it announces a text/plain response."""
    from conformance.report.implementations import NODE_DIR

    _, received = wire

    def run(alias: str, pattern: str):
        target = HarnessTarget(["node", str(NODE_DIR / "eventsource.mjs"), str(node_modules), alias])
        return run_client_suite(target, pattern=pattern, chunkings=["whole"])

    v5 = run("es5", "NT-*")
    assert {r.case for r in v5.results if r.outcome is not Outcome.PASS} == {"NT-010"}  # read-timeout
    assert {"open", "error"} <= {next(k for k in m if k != "seq") for m in received}
    assert not invalid(received), invalid(received)
    v2 = run("es2", "NT-005")
    assert {r.outcome for r in v2.results} == {Outcome.FAIL}
    assert v2.results[0].data["actual"]["notifications"][:2] == ["open", "event"]


def test_eventsource_v2_failing_or_stopping_a_connection_ends_the_run_at_once(node_modules):
    # v2 emits "error" for a 204 or a 201 and closes only after its handlers ran: the adapter
    # used to look at readyState inside the handler, see CONNECTING and wait forever, so about
    # 40 correct behaviours (a stop on 204, a failure on 201) were reported as hangs
    from conformance.report.implementations import NODE_DIR

    target = HarnessTarget(["node", str(NODE_DIR / "eventsource.mjs"), str(node_modules), "es2"])
    report = run_client_suite(target, pattern="HT-03[0-4]", chunkings=["whole"])
    report_204 = run_client_suite(target, pattern="RC-001", chunkings=["whole"])
    for result in report.results + report_204.results:
        assert result.outcome is Outcome.PASS, result.message
        assert "alone" not in result.extra


def _start(script: str, idle: float) -> dict | str:
    """Start an adapter that runs ``script`` before it answers ``start`` with ``ready``."""
    hello = 'import json,sys,time\\n' + script + '\\nsys.stdin.readline()\\n' \
        'print(json.dumps({"ready": True, "protocol": 1, "implementation": {"name": "x"}}), flush=True)\\n' \
        'sys.stdin.readline()'
    harness = Harness([sys.executable, "-c", hello.replace("\\n", "\n")])

    async def main():
        try:
            return await harness.start(timeout=idle)
        except Exception as error:  # the error is what the test looks at
            return str(error)
        finally:
            await harness.stop()

    return asyncio.run(main())


def test_an_adapter_busy_before_ready_is_waited_for():
    # 3 s of CPU (an SDK import on a loaded machine) against an idle limit of 1 s: still working
    assert _start("t = time.thread_time() + 3\nwhile time.thread_time() < t: pass", idle=1.0) == {"name": "x"}


def test_an_adapter_idle_without_ready_is_broken():
    answer = _start("time.sleep(30)", idle=1.0)
    assert isinstance(answer, str) and "did not say ready" in answer


def test_a_process_that_goes_on_with_a_cancelled_run_is_retired():
    # undici's EventSource kept reconnecting after its run was cancelled: a process still running
    # a client is never idle, so no later run on it could be seen waiting until it is retired
    import os
    import types

    from conformance.client.protocol import LATE_REPORTS

    harness = Harness(["true"])
    harness.proc = types.SimpleNamespace(pid=os.getpid())
    harness._late[5] = 0  # what cancel() leaves for a run it gave up on

    async def late_reports(count: int) -> None:
        for _ in range(count):
            await harness._dispatch(b'{"seq": 5, "error": true}')

    asyncio.run(late_reports(LATE_REPORTS))
    assert harness.healthy  # reports in flight at the cancel are forgiven
    asyncio.run(late_reports(1))
    assert not harness.healthy


def _crash_after_runs(runs: int) -> list[tuple[str, str]]:
    """An adapter that exits with status 1 once ``runs`` runs are in flight: what each run got."""
    from conformance.client.observation import Invocation

    script = (
        "import json,sys\n"
        "sys.stdin.readline()\n"
        'print(json.dumps({"ready": True, "protocol": 1, "implementation": {"name": "x"}}), flush=True)\n'
        f"for _ in range({runs}): sys.stdin.readline()\n"
        "sys.exit(1)\n"
    )
    harness = Harness([sys.executable, "-c", script])

    async def main():
        await harness.start()
        try:
            invocation = Invocation("http://127.0.0.1:9/")
            streams = [(await harness.run(invocation, "generic"))[1] for _ in range(runs)]
            return [await anext(stream) for stream in streams]
        finally:
            await harness.stop()

    return asyncio.run(main())


def test_an_adapter_crash_with_several_runs_in_flight_is_no_ones_raise():
    # eventsource v2 threw in a timer and its process exited: every run in flight got "raised",
    # and three cases expecting a failed connection passed on another run's crash
    alone = _crash_after_runs(1)
    assert [kind for kind, _ in alone] == ["raised"]  # one run in flight: its crash
    shared = _crash_after_runs(2)
    assert [kind for kind, _ in shared] == ["lost", "lost"]
    assert "2 runs in flight" in shared[0][1]


def test_a_lost_run_is_an_error_never_a_pass():
    from conformance.client.judge import judge_run
    from conformance.client.observation import Observation, absorb
    from conformance.client.runner import plan_items

    item = plan_items(pattern="HT-070", chunkings=["whole"])[0]  # expects a failed connection
    observation = Observation()
    absorb(observation, "lost", "the adapter process exited (status 1), with 2 runs in flight", "generic")
    results = judge_run(item.case, item.chunking, observation, [])
    assert observation.lost and {r.outcome for r in results} == {Outcome.ERROR}


def test_a_pools_processes_start_side_by_side(tmp_path):
    # Each adapter answers ready only once all three have started: started one at a time (the
    # first run of a 16-worker pool waited 3 s), the first would never be ready.
    from conformance.client.pool import HarnessPool

    script = (
        "import json, os, pathlib, sys, time\n"
        f"d = pathlib.Path({str(tmp_path)!r})\n"
        "(d / str(os.getpid())).touch()\n"
        "sys.stdin.readline()\n"
        "deadline = time.monotonic() + 5\n"
        "while len(list(d.iterdir())) < 3 and time.monotonic() < deadline: time.sleep(0.01)\n"
        "ready = len(list(d.iterdir())) >= 3\n"
        "print(json.dumps({'ready': ready, 'protocol': 1, 'implementation': {'name': 'x'}}), flush=True)\n"
        "sys.stdin.readline()\n"
    )
    pool = HarnessPool([sys.executable, "-c", script], size=3)

    async def main():
        try:
            return await asyncio.gather(*(pool.acquire() for _ in range(3)), return_exceptions=True)
        finally:
            await pool.close()

    harnesses = asyncio.run(main())
    assert not [h for h in harnesses if isinstance(h, BaseException)]
    assert len({h.pid for h in harnesses}) == 3
    assert len(list(tmp_path.iterdir())) == 3


def test_a_start_cancelled_before_ready_leaves_no_process(tmp_path):
    # An item cancelled (its deadline, asyncio.run ending) while its pool starts a process: the
    # harness is in no pool yet, so nothing would stop it; it lived until the suite exited.
    from conformance.client.pool import HarnessPool

    script = (
        "import os, pathlib, sys, time\n"
        f"(pathlib.Path({str(tmp_path)!r}) / str(os.getpid())).touch()\n"
        "time.sleep(60)\n"  # never says ready
    )
    pool = HarnessPool([sys.executable, "-c", script], size=1)

    async def main():
        task = asyncio.ensure_future(pool.acquire())
        while not list(tmp_path.iterdir()):
            await asyncio.sleep(0.01)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await pool.close()
        return int(next(tmp_path.iterdir()).name)

    pid = asyncio.run(main())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_process_letting_a_cancelled_run_go_gets_no_new_run_until_it_has(tmp_path):
    # sseclient-py's 5 MiB case met its deadline in the report, its thread still parsing: the
    # pool gave that process the next case at once (the worker says within a second whether its
    # client let go), and two tiny cases timed out beside the parse that held the GIL.
    from conformance.client.observation import Invocation
    from conformance.client.pool import HarnessPool

    answered = tmp_path / "answered"
    script = (
        "import json, pathlib, sys, time\n"
        "sys.stdin.readline()\n"
        "print(json.dumps({'ready': True, 'protocol': 1, 'implementation': {'name': 'x'}}), flush=True)\n"
        "for line in sys.stdin:\n"
        "    message = json.loads(line)\n"
        "    if message['cmd'] == 'cancel':\n"
        "        time.sleep(0.3)  # its client takes a while to let go\n"
        f"        pathlib.Path({str(answered)!r}).touch()\n"
        "        answer = {'seq': message['seq'], 'cancelled': True, 'lingering': False}\n"
        "        print(json.dumps(answer), flush=True)\n"
    )
    pool = HarnessPool([sys.executable, "-c", script], size=1)

    async def main():
        try:
            first = await pool.acquire()
            seq, _ = await first.run(Invocation("http://127.0.0.1:9/"), "generic")
            await first.cancel(seq)  # the case's deadline: the client is told to let go
            busy = first.in_flight
            second = await pool.acquire()
            return busy, second is first, answered.exists()
        finally:
            await pool.close()

    busy, same, answered_first = asyncio.run(main())
    assert busy == 1, "a process letting a run go counted as idle"
    assert same and answered_first, "the next run was given the process before its client let go"
