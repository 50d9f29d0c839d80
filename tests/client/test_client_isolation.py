"""Verdicts that do not depend on the machine's load, and a suite bounded against hostile clients.

Every test here runs real clients (worker processes, commands) against the real case server.
Memory is measured in a fresh interpreter, where the peak RSS is the suite's own.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import naive_clients as nc
import pytest
from conftest import bad, run_cases

from conformance.cases import load_cases
from conformance.cases.chunkings import chunking
from conformance.client.items import chunkings_of
from conformance.client.processes import tracked
from conformance.client.runner import DEFAULT_CONCURRENCY, ClientRun, run_client_suite
from conformance.client.targets import CommandTarget, PythonTarget
from conformance.results import Outcome

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "cmd_client.py"
ROOT = HERE.parent.parent


def command(mode: str) -> CommandTarget:
    return CommandTarget(f"{sys.executable} {SCRIPT} {{url}} {mode}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as handle:  # a zombie is dead: its parent just has not waited
        return handle.read().rsplit(")", 1)[1].split()[0] != "Z"


def suite_peak_rss_mb(code: str) -> tuple[float, str]:
    """Run ``code`` in a fresh interpreter; its own peak RSS in MB, and what it printed.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child of a large test
    process would report its parent's peak."""
    wrapped = (
        code
        + "\nprint('RSS', next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), str(ROOT)]))
    done = subprocess.run(
        [sys.executable, "-c", wrapped], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rss_kb = int(done.stdout.rsplit("RSS", 1)[1])
    return rss_kb / 1024, done.stdout


# -- time never decides a parsing verdict ----------------------------------------------------


def test_python_targets_run_in_worker_processes_not_in_the_case_servers():
    target = PythonTarget(nc.good_client)
    assert target.spec == "naive_clients:good_client"
    report = run_client_suite(target, pattern="LE-00*", chunkings=["whole"])
    assert report.ok and not bad(report)
    assert not tracked()  # every worker process group was reaped


def test_a_correct_client_slow_on_cpu_passes_every_case_it_declares_in_a_full_run():
    """1.5 s of CPU on the 5 MiB event, every generic case under every chunking, at the default
    concurrency: nothing fails, not C-38 and not the small cases running beside it."""
    report = run_client_suite(nc.slow_good_client, concurrency=DEFAULT_CONCURRENCY)
    assert not bad(report), bad(report)[:10]
    large = [r for r in report.results if r.case == "DA-013" and r.outcome is Outcome.PASS]
    assert large, "the 5 MiB case ran and passed"


def test_a_client_working_silently_on_cpu_is_not_stopped_as_silent():
    # LE-032 is held open: a client that has read every byte and sleeps is done; this one is
    # running, not asleep, for 2.5 s before it reports, and the run waits for it
    report = run_cases(nc.silent_cpu_client, only=("LE-032",), rules=["none"], scale=1.0)
    assert not bad(report), bad(report)
    assert {r.outcome for r in report.results} == {Outcome.PASS}


def test_a_client_asleep_on_a_timer_of_its_own_is_not_waiting():
    # every byte read, then 1.5 s on a timer (clock_nanosleep) before it reports: a timer due
    # before the deadline means the client is not done; the run looks again once it fires
    report = run_client_suite(nc.timer_then_reports_client, pattern="LE-00[12]", chunkings=["whole"])
    assert report.ok, bad(report)
    assert min(r.seconds for r in report.results) >= 1.5


def test_a_client_waiting_after_reading_everything_fails_at_once_not_at_its_deadline():
    # asleep with no timer and every byte read: its missing events are a fact, judged as soon as
    # it is seen waiting, long before the case's 10 s deadline
    report = run_client_suite(nc.waits_forever_after_reading_client, pattern="LE-001", chunkings=["whole"])
    failed = [r for r in report.results if r.outcome is Outcome.FAIL]
    assert failed and all("reported 0 of" in r.message for r in failed), bad(report)
    assert {r.data["actual"]["ended_by"] for r in report.results} == {"waiting"}  # not "deadline"


def test_a_real_hang_is_an_error_at_the_deadline_never_a_rule_failure():
    # never requests: nothing to judge but time, so the verdict is "timed out", an error
    report = run_client_suite(nc.hanging_client, pattern="LE-001", chunkings=["whole"], timeout_scale=0.1)
    assert {r.outcome for r in report.results} == {Outcome.ERROR}, bad(report)
    assert all("timed out" in r.message for r in report.results)


def test_a_wrong_event_is_a_fact():
    report = run_cases(nc.naive_client("lf-only"), rules=["C-08"], chunkings=("whole",))
    wrong = [r for r in report.results if r.outcome is Outcome.FAIL and "differs" in r.message]
    assert wrong


def test_p10_comes_from_cpu_growth_a_quadratic_client_warns_a_linear_one_passes():
    quadratic = run_client_suite(nc.quadratic_client, pattern="DA-013", chunkings=["whole"])
    p10 = [r for r in quadratic.results if r.rule == "P-10"]
    assert [r.outcome for r in p10] == [Outcome.WARN], [(r.outcome, r.actual) for r in p10]
    assert "quadratic" in p10[0].message and p10[0].extra["ratio"] > 8
    # its probes put the 5 MiB line at about a third of the case's 25 s deadline (8 s here): run.
    # A third, not most of it: a slower machine must not tip the projection past the deadline
    assert {r.outcome for r in quadratic.results if r.case == "DA-013"} == {Outcome.PASS}
    # 8 bytes a read: its probes put the line far past the deadline (69 s here), and its 1 MiB
    # probe still ends well within its own 13 s (2.8 s here): not run
    slower = run_client_suite(nc.very_quadratic_client, pattern="DA-013", chunkings=["whole"])
    da013 = [r for r in slower.results if r.case == "DA-013"]
    assert da013 and all(r.outcome is Outcome.SKIP and "P-10 probes put a 5.0 MiB line" in r.message
                         for r in da013), [r.message for r in da013]
    linear = run_client_suite(nc.good_client, pattern="DA-013", chunkings=["whole"])
    assert [r.outcome for r in linear.results if r.rule == "P-10"] == [Outcome.PASS]
    assert {r.outcome for r in linear.results if r.case == "DA-013"} == {Outcome.PASS}  # run, and judged


def test_p10_measures_a_client_that_comes_back_after_a_204_on_its_request_past_it():
    """The legacy sseclient reconnects after the 204 that ends each probe: its runs end on its
    request past it ("enough"), when it has parsed every byte of the probe. That is a measurement:
    P-10 said "the client's CPU time cannot be measured here" for it."""
    report = run_client_suite(nc.quadratic_ignoring_204_client, pattern="DA-013", chunkings=["whole"])
    p10 = [r for r in report.results if r.rule == "P-10"]
    assert [r.outcome for r in p10] == [Outcome.WARN], [(r.outcome, r.message) for r in p10]
    assert "quadratic" in p10[0].message


def test_a_case_of_megabytes_runs_whole_and_under_one_split_only():
    for case in load_cases("generic"):
        names = [c.name for c in chunkings_of(case)]
        if case.id in ("DA-013", "DA-017", "DA-018"):
            assert names[0] == "whole" and len(names) == 2, (case.id, names)
        elif case.id == "LE-001":
            assert len(names) > 2


# -- bounded against hostile clients ---------------------------------------------------------


def test_a_flooding_python_client_is_stopped_at_its_bound_with_bounded_memory():
    peak, out = suite_peak_rss_mb(
        textwrap.dedent(
            """
            import naive_clients as nc
            from conformance.client.runner import run_client_suite
            report = run_client_suite(nc.flooding_client, pattern="LE-001", chunkings=["whole"])
            print(report.results[0].outcome.value, report.results[0].message)
            """
        )
    )
    assert out.startswith("fail ") and "stopped: the client reported more than 20,000 events" in out
    assert peak < 200, f"the suite peaked at {peak:.0f} MB"


def test_a_command_printing_a_1_gib_line_keeps_the_suite_under_200_mb():
    peak, out = suite_peak_rss_mb(
        textwrap.dedent(
            f"""
            import sys
            from conformance.client.runner import run_client_suite
            from conformance.client.targets import CommandTarget
            target = CommandTarget(sys.executable + " {SCRIPT} {{url}} hugeline")
            report = run_client_suite(target, pattern="LE-001", chunkings=["whole"], timeout_scale=4)
            print(report.results[0].outcome.value, report.results[0].message)
            """
        )
    )
    assert "error the adapter's output cannot be judged: printed a line longer than" in out, out
    assert peak < 200, f"the suite peaked at {peak:.0f} MB"


def test_a_command_client_that_forks_leaves_no_process_behind(tmp_path, monkeypatch):
    pid_file = tmp_path / "child.pid"
    monkeypatch.setenv("FORK_PID_FILE", str(pid_file))
    report = run_client_suite(command("fork"), pattern="LE-001", chunkings=["whole"])
    assert report.ok, bad(report)
    # its exit ends the run (a fact), though the child it forked holds its stdout open
    case = next(iter(load_cases("generic", "LE-001")))

    async def ended_by() -> str:
        run = ClientRun(command("fork"))
        async with run.server:
            observation, _ = await run.observe(case, chunking("whole"))
        return observation.ended_by

    assert asyncio.run(ended_by()) == "returned"
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child), "the forked child outlived its item"


def test_sigterm_to_the_suite_kills_every_client_and_its_children(tmp_path):
    pid_file = tmp_path / "child.pid"
    env = dict(os.environ, FORK_PID_FILE=str(pid_file))
    argv = [
        sys.executable,
        "-m",
        "conformance",
        "client",
        "--cmd",
        f"{sys.executable} {SCRIPT} {{url}} fork-hang",
        "-k",
        "LE-001",
        "--chunking",
        "whole",
    ]
    suite = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pid_file.exists(), "the client never started"
        time.sleep(0.2)
        child = int(pid_file.read_text())
        suite.send_signal(signal.SIGTERM)
        _, err = suite.communicate(timeout=30)
    finally:
        suite.kill()
    assert suite.returncode == 2
    assert b"interrupted by SIGTERM" in err and b"Traceback" not in err
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_a_crash_left_by_an_earlier_stopped_run_is_not_the_next_runs_verdict():
    # npm eventsource v2: a reused adapter process died during a run from a timer of the run
    # before it, and that run got the crash (37 passes of the report became errors). Such a run
    # is lost and runs again on a process of its own, which gives the client's own verdict.
    held_open = ("LE-031", "LE-032")  # runs stopped once the client waits, before it returns
    target = PythonTarget(nc.crashes_after_a_stopped_run_client)
    report = run_cases(target, only=(*held_open, "EN-001", "EN-002"), rules=("none",), concurrency=1)
    stopped = [r for r in report.results if "exited" in r.message]
    assert not stopped and not bad(report), bad(report)[:3]
    assert len({r.name for r in report.results}) > 3  # several runs, one process reused


def test_a_client_ticking_for_nothing_on_a_held_open_stream_is_waiting_not_busy():
    # eventsource-parser in Node: undici's timers tick every 500 ms, so the client never slept
    # without a timer due and a real C-10 failure came out as "timed out" at the deadline
    report = run_cases(PythonTarget(nc.ticking_lf_only_client), only=("LE-031",), rules=("none",))
    verdicts = {(r.rule, r.outcome) for r in report.results}
    assert verdicts == {("C-10", Outcome.FAIL)}, bad(report)
    assert all("waits for more" in r.message or "0 of 1" in r.message for r in report.results)


def test_a_read_timeout_checked_on_a_tick_is_followed_until_it_acts():
    # on a case about the client's own read time-out its ticks are work to come: stopping it
    # after two idle ticks would fail a client that reconnects right on time
    target = PythonTarget(nc.ticking_read_timeout_client)
    report = run_cases(target, only=("OP-010",), rules=("none",), capabilities=("read-timeout",))
    assert {r.outcome for r in report.results} == {Outcome.PASS}, bad(report)


def test_each_request_and_response_end_is_stamped_with_the_clients_run_queue_wait():
    # what lets a reconnect gap be judged without load's share (findings._starved_ms)
    import asyncio

    from conformance.cases.chunkings import chunking
    from conformance.client.runner import ClientRun

    case = next(c for c in load_cases() if c.id == "RC-025")
    run = ClientRun(PythonTarget(nc.reconnecting_client))

    async def main():
        async with run.server:
            try:
                return await run.observe(case, chunking("whole"))
            finally:
                await run.aclose()

    _, slot = asyncio.run(main())
    assert len(slot.requests) == len(case.connections) + 1
    assert all(r.starved_at_received is not None for r in slot.requests)
    assert all(r.starved_at_ended is not None for r in slot.requests[:-1])
    marks = [m for r in slot.requests for m in (r.starved_at_received, r.starved_at_ended) if m is not None]
    assert all(m >= 0 for m in marks)


def test_a_reported_object_that_raises_is_an_error_for_its_item_and_the_run_goes_on():
    report = run_client_suite(nc.hostile_object_client, pattern="LE-00[12]", chunkings=["whole"])
    assert {r.outcome for r in report.results} == {Outcome.ERROR}
    assert len({r.case for r in report.results}) == 2
    assert all("data is broken" in r.message for r in report.results)


def test_a_leaked_non_daemon_thread_does_not_keep_the_suite_alive():
    argv = [
        sys.executable,
        "-m",
        "conformance",
        "client",
        "naive_clients:leaks_thread_client",
        "-k",
        "LE-001",
        "--chunking",
        "whole",
        "--capability",
        "headers",
    ]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), str(ROOT)]))
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout[-1000:] + done.stderr[-1000:]


@pytest.mark.parametrize("concurrency", ["0", "x"])
def test_bad_concurrency_is_a_usage_error(concurrency):
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "client", "--cmd", "true", "-j", concurrency],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--concurrency" in done.stderr and "Traceback" not in done.stderr


def test_the_json_lines_of_a_command_report_its_events():
    report = run_client_suite(command(""), pattern="LE-001", chunkings=["whole"])
    assert report.ok
    assert json.loads(json.dumps(report.to_json()))["results"]


def test_a_reconnecting_client_missing_an_event_is_judged_when_it_comes_back_not_on_time():
    # LE-015 ends "data: Hello\r\r" and closes; this client drops CR-only lines and reconnects
    # after 2 s (a timer the run sees): the 204 it then gets ends the run, a fact
    report = run_client_suite(nc.slow_reconnect_lf_only_client, pattern="LE-015", chunkings=["whole"])
    failed = [r for r in report.results if r.outcome is Outcome.FAIL]
    assert {r.rule for r in failed} >= {"C-08"}, bad(report)
    assert not any("timed out" in r.message for r in failed), failed[0].message


def test_an_extra_event_a_busy_client_dispatches_late_at_the_end_is_still_caught():
    # DI-005 ends mid-event; this client dispatches the leftover after 1 s of CPU. The window
    # after the expected events (0.15 s) used to end first, and whether the extra was seen
    # depended on the load (sseclient-py's flips on DI-005); a client still using CPU is not done.
    report = run_cases(nc.slow_at_eof_client, only=("DI-005",), rules=["none"])
    failed = [r for r in report.results if r.rule == "C-33" and r.outcome is Outcome.FAIL]
    assert failed, bad(report)
    assert '"b"' in failed[0].message or "'b'" in failed[0].message or "b" in failed[0].actual, failed[0]


def test_a_client_that_comes_back_after_a_delay_is_followed_to_the_204():
    # HT-013 serves "Text/Event-Stream": this client rejects it silently and retries 1.5 s later;
    # its timer is seen, it comes back, gets the 204, and the failure is that fact
    report = run_cases(nc.exact_type_retrying_client, only=("HT-013",), rules=["none"])
    failed = [r for r in report.results if r.outcome is Outcome.FAIL]
    assert [r.rule for r in failed] == ["N-03"], bad(report)
    assert "timed out" not in failed[0].message, failed[0].message


def test_a_report_whose_bytes_keep_coming_is_waited_for():
    # the event's line arrives in six pieces over 2.4 s, the client sleeping 0.4 s between them:
    # a timer due each time, so the run waits for the whole line
    report = run_client_suite(command("slow-line"), pattern="DA-001", chunkings=["whole"])
    assert report.ok, bad(report)


def test_a_large_report_still_on_its_way_when_the_client_comes_back_is_waited_for():
    # the client writes half of DA-013's 5 MiB event line, reconnects (204), then the rest:
    # eventsource v2 did this on DA-017 on a busy machine, and the 204 ended the run before the
    # line was in ("reported 0 of 1 events": a verdict the load decided)
    report = run_client_suite(command("late-large"), pattern="DA-013", chunkings=["whole"])
    assert report.ok, bad(report)
