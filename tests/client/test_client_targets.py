"""Target adapters: commands in any language, async callables, and hostile clients."""

import asyncio
import os
import shlex
import sys
from pathlib import Path

import naive_clients as nc
from conftest import bad, run_cases

from conformance.client.runner import ClientRun, run_client_suite
from conformance.client.targets import CommandTarget
from conformance.results import Outcome

SCRIPT = Path(__file__).with_name("cmd_client.py")


def command(mode=""):
    return CommandTarget(f"{sys.executable} {SCRIPT} {{url}} {mode}".strip())


def test_a_command_client_passes_and_a_failing_status_is_its_nonzero_exit():
    report = run_cases(command(), rules=["C-10"], only=("HT-030", "HT-010"), chunkings=("whole",))
    outcomes = {r.outcome for r in report.results} - {Outcome.SKIP}
    assert outcomes == {Outcome.PASS}, [r.message for r in report.results if r.outcome is not Outcome.PASS]
    assert {"N-03", "N-04"} <= {r.rule for r in report.results}  # "text/event-stream;" ok, 201 exits 1


def test_a_command_printing_garbage_is_an_error_not_a_failure():
    report = run_client_suite(command("garbage"), pattern="LE-001", chunkings=["whole"])
    assert {r.outcome for r in report.results} == {Outcome.ERROR}
    assert "not JSON" in report.results[0].message


def test_a_hanging_command_is_killed_at_its_time_bound():
    report = run_client_suite(command("hang"), pattern="LE-001", chunkings=["whole"], timeout_scale=0.1)
    # only the deadline (1 s at this scale) decided it: "timed out" is an error, not a rule failure
    assert {r.outcome for r in report.results} == {Outcome.ERROR}
    assert "timed out" in report.results[0].message


def test_a_hanging_callable_is_bounded_and_the_run_goes_on():
    report = run_client_suite(nc.hanging_client, pattern="LE-00", chunkings=["whole"], timeout_scale=0.1)
    assert len({r.case for r in report.results}) > 1
    assert all(r.outcome is Outcome.ERROR and "timed out" in r.message for r in report.results)
    assert not report.ok


def test_a_crashing_client_is_an_error_naming_the_exception():
    report = run_client_suite(nc.crashing_client, pattern="LE-001", chunkings=["whole"])
    assert {r.outcome for r in report.results} == {Outcome.ERROR}
    assert "ZeroDivisionError: the adapter has a bug" in report.results[0].message


def test_a_crash_message_carries_only_the_stderr_of_its_own_run():
    report = run_client_suite(nc.noisy_crashing_client, pattern="LE-00[12]", chunkings=["whole"],
                              concurrency=1)
    crash = next(r for r in report.results if r.case == "LE-002")
    assert crash.outcome is Outcome.ERROR and "crash on LE-002" in crash.message
    assert "LE-001" not in crash.message  # the reused worker wrote that one for the case before


def test_a_wrong_event_before_a_crash_is_the_failure_and_the_crash_is_named_after_it():
    report = run_client_suite(nc.wrong_then_crashing_client, pattern="LE-001", chunkings=["whole"])
    assert {r.outcome for r in report.results} == {Outcome.FAIL}
    message = report.results[0].message
    assert message.startswith("event #1 differs in data") and "ZeroDivisionError" in message


def test_a_crash_on_the_way_back_is_seen_however_long_after_the_events_it_comes():
    # The settle window after the last event (0.15 s) raced such a crash: error or pass by load.
    report = run_client_suite(nc.crashing_on_comeback_client, pattern="LE-00[12]", chunkings=["whole"])
    assert {r.outcome for r in report.results} == {Outcome.ERROR}
    assert all("UnicodeEncodeError" in r.message for r in report.results)


def test_a_client_reporting_non_events_is_an_error():
    report = run_client_suite(nc.garbage_client, pattern="LE-001", chunkings=["whole"])
    assert {r.outcome for r in report.results} == {Outcome.ERROR}
    assert "has no 'data'" in report.results[0].message


def test_an_async_generator_target_runs_on_its_own_loop():
    # Each call builds an httpx.AsyncClient (~80 ms of TLS set-up): a few cases are enough.
    report = run_cases(nc.async_good_client, rules=["C-09", "N-04"], chunkings=("whole",))
    assert {r.outcome for r in report.results} - {Outcome.SKIP} == {Outcome.PASS}


def test_a_case_needing_an_undeclared_capability_is_skipped_with_the_reason():
    report = run_cases(nc.good_client, rules=["N-10"], chunkings=("whole",))
    skipped = [r for r in report.results if r.outcome is Outcome.SKIP]
    assert skipped and report.ok
    assert all("needs capability reconnect" in r.message and "--capability" in r.message for r in skipped)
    declared = run_cases(nc.reconnecting_client, rules=["N-10"], chunkings=("whole",), exclude=("RC-034",))
    ran = [r for r in declared.results if r.outcome is not Outcome.SKIP]
    assert ran and all("reconnect" not in r.message for r in ran if r.outcome is Outcome.SKIP)


def test_a_failure_explains_itself_with_visible_whitespace():
    report = run_cases(nc.naive_client("lf-only"), rules=["C-08"], chunkings=("whole",))
    failure = next(r for r in report.results if r.outcome is Outcome.FAIL)
    assert failure.evidence and "whole chunks:" in failure.evidence
    assert "␍" in failure.evidence or "␊" in failure.evidence
    assert failure.fix and failure.spec.startswith("https://html.spec.whatwg.org/")
    assert failure.expected != failure.actual


def test_a_client_that_reconnects_forever_fails_n05_within_the_bound():
    report = run_cases(nc.reconnects_forever, rules=["N-05"], chunkings=("whole",), scale=0.2)
    failed = [r for r in report.results if r.rule == "N-05" and r.outcome is Outcome.FAIL]
    assert failed and all("timed out" in r.message or "request(s)" in r.message for r in failed)
    # stopped by the request one past the script (a fact), never left to reconnect on
    assert {r.data["actual"]["ended_by"] for r in failed} <= {"enough", "deadline"}


def test_the_python_api_works_from_inside_a_running_loop():
    import asyncio

    async def main():
        return run_client_suite(nc.good_client, pattern="LE-001", chunkings=["whole"])

    assert asyncio.run(main()).ok


def test_a_command_client_in_the_openai_profile_prints_the_text():
    report = run_cases(command("openai"), rules=["O-08"], only=("OA-001", "OA-010"), profile="openai")
    assert {r.outcome for r in report.results} == {Outcome.PASS}, bad(report)
    assert {"O-07", "O-08", "O-09"} <= {r.rule for r in report.results}


def test_every_caller_of_open_waits_for_the_adapter_to_announce_its_capabilities():
    """P-10's probes start beside the items: both open the target, and the second caller read
    the capabilities before the adapter had announced them (every npm row skipped its reconnect
    cases as undeclared)."""

    class Announcing:
        name, capabilities, opened = "announcing", frozenset(), 0

        async def open(self, concurrency):
            self.opened += 1
            await asyncio.sleep(0.01)  # an adapter process starting
            self.capabilities = frozenset({"reconnect"})

    target = Announcing()
    run = ClientRun(nc.good_client)
    run.target = target  # an adapter of a harness, as far as the run is concerned

    async def caller():
        await run.open()
        return run.capabilities

    async def both():
        return await asyncio.gather(caller(), caller())

    assert all("reconnect" in seen for seen in asyncio.run(both()))
    assert target.opened == 1


def test_a_command_client_that_prints_the_text_piece_by_piece_is_read_to_its_end():
    # a write per token, as a chat client shows them: all of them are the text, not the first
    report = run_cases(command("openai-tokens"), rules=["O-08"], only=("OA-001",), profile="openai")
    assert {r.outcome for r in report.results} == {Outcome.PASS}, bad(report)



def test_a_command_s_output_is_read_to_its_end_after_its_exit_and_not_waited_for_past_it():
    from types import SimpleNamespace

    from conformance.client.command import _UntilExit

    async def main():
        loop = asyncio.get_running_loop()
        exited = loop.create_future()
        stdout = asyncio.StreamReader()
        running = SimpleNamespace(stdout=stdout, exited=exited, pid=os.getpid(), returncode=None)
        output = _UntilExit(running, [None])
        stdout.feed_data(b"first")
        assert await output.read(1024) == b"first"  # running: read as it comes
        later = asyncio.ensure_future(output.read(1024))
        await asyncio.sleep(0)
        stdout.feed_data(b"rest")
        exited.set_result(None)  # the exit and its last bytes, in one turn
        assert await later == b"rest"
        stdout.feed_data(b"left")  # still unread at its exit: read, not dropped
        assert await asyncio.wait_for(output.read(1024), 5) == b"left"
        # nothing left, and no end of file (a child it forked holds the pipe): ended, not waited for
        assert await asyncio.wait_for(output.read(1024), 5) == b""

    asyncio.run(main())


def test_a_command_that_exits_has_the_cpu_seconds_it_had_when_it_last_reported():
    """P-10 reads a command's CPU time from /proc; a run that ends on its exit ends once the
    process is reaped, when /proc has nothing left: its probes read "cannot be measured". (A
    report written as the process exits can still race the reaping: this one comes before.)"""
    import asyncio

    from conformance.client.observation import Invocation

    burn = ("import json, time\nstart = time.process_time()\n"
            "while time.process_time() - start < 0.2: pass\n"
            "print(json.dumps({'data': 'x'}), flush=True)\ntime.sleep(0.2)")
    target = CommandTarget(f"{sys.executable} -c {shlex.quote(burn)} {{url}}")
    run = target.observe(Invocation("http://127.0.0.1:9/"), profile="generic", timeout=10)
    observation = asyncio.run(run)
    assert observation.ended_by == "returned" and [e.data for e in observation.events] == ["x"]
    assert observation.cpu_seconds is not None and observation.cpu_seconds >= 0.2


def test_the_cpu_seconds_of_a_client_count_the_children_it_runs_in():
    """An adapter may run each case in a child it forks (the legacy sseclient's harness): the
    run's CPU time, read from /proc while the child still runs, is the child's too (P-10)."""
    import subprocess

    from conformance.client.processes import cpu_seconds

    code = ("import os, sys, time\npid = os.fork()\n"
            "if pid == 0:\n    start = time.process_time()\n"
            "    while time.process_time() - start < 0.5: pass\n    print('burnt', flush=True)\n"
            "    time.sleep(60)\n    os._exit(0)\n"
            "sys.stdin.read()\nos.kill(pid, 9)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert parent.stdout.readline() == b"burnt\n"
        assert cpu_seconds(parent.pid) >= 0.45  # /proc counts in clock ticks (10 ms), not exactly
        with open(f"/proc/{parent.pid}/stat") as stat:  # the parent alone used next to nothing
            fields = stat.read().rsplit(")", 1)[1].split()
        assert (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") < 0.2
    finally:
        parent.communicate(b"")
