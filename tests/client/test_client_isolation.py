"""Verdicts that do not depend on the machine's load, and a suite bounded against hostile clients.

Every test here runs real clients (worker processes, commands) against the real case server.
Memory is measured in a fresh interpreter, where the peak RSS is the suite's own.
"""

from __future__ import annotations

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
from conftest import run_cases

from conformance.cases import load_cases
from conformance.client.processes import tracked
from conformance.client.runner import (
    BUSY_LIMIT,
    CPU_BUDGET,
    DEFAULT_CONCURRENCY,
    cpu_budget,
    needs_fresh_process,
    run_client_suite,
)
from conformance.client.targets import CommandTarget, PythonTarget
from conformance.results import Outcome

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "cmd_client.py"
ROOT = HERE.parent.parent


def command(mode: str) -> CommandTarget:
    return CommandTarget(f"{sys.executable} {SCRIPT} {{url}} {mode}")


def bad(report):
    return [
        f"{r.name} {r.rule}: {r.message}"
        for r in report.results
        if r.outcome in (Outcome.FAIL, Outcome.ERROR)
    ]


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
    # LE-032 is held open: a silent client is stopped after the quiet window, a busy one is not
    report = run_cases(nc.silent_cpu_client, only=("LE-032",), rules=["none"], scale=1.0)
    assert not bad(report), bad(report)
    assert {r.outcome for r in report.results} == {Outcome.PASS}


def test_a_failure_resting_on_a_time_bound_is_confirmed_alone_and_the_second_verdict_counts(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("SLOW_FIRST_DIR", str(tmp_path))
    report = run_client_suite(
        nc.slow_first_time_client, pattern="LE-00[12]", chunkings=["whole"], timeout_scale=0.3
    )
    assert report.ok, bad(report)
    confirmed = [r for r in report.results if "alone" in r.extra]
    assert confirmed and all(r.outcome is Outcome.PASS for r in confirmed)
    assert all("timed out" in r.extra["alone"]["first"] for r in confirmed)
    assert all(r.extra["alone"]["seconds"] < r.extra["alone"]["bound"] for r in confirmed)


def test_a_real_hang_stays_a_failure_after_the_run_alone():
    report = run_client_suite(nc.hanging_client, pattern="LE-001", chunkings=["whole"], timeout_scale=0.1)
    failed = [r for r in report.results if r.outcome is Outcome.FAIL]
    assert failed and all("also when run again alone" in r.message for r in failed)


def test_a_wrong_event_is_never_rerun_it_is_a_fact_not_a_timing():
    report = run_cases(nc.naive_client("lf-only"), rules=["C-08"], chunkings=("whole",))
    wrong = [r for r in report.results if r.outcome is Outcome.FAIL and "differs" in r.message]
    assert wrong and not any("alone" in r.extra for r in wrong)


# -- bounded against hostile clients ---------------------------------------------------------


def test_a_flooding_python_client_is_stopped_at_its_bound_with_bounded_memory():
    started = time.monotonic()
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
    assert time.monotonic() - started < 60
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


def test_a_client_still_working_at_its_deadline_gets_more_time_in_the_crowd():
    # bounds scaled to 0.1: a 0.5 s deadline; the client needs 3 s of CPU before it reads.
    # Still using CPU at the deadline, it gets more time in its first attempt (CPU time, not
    # load, decides), so nothing rests on time and nothing waits for a turn alone.
    report = run_client_suite(
        nc.burns_before_reading_client, pattern="LE-001", chunkings=["whole"], timeout_scale=0.1
    )
    assert report.ok, bad(report)
    assert all("alone" not in r.extra for r in report.results)
    assert min(r.seconds for r in report.results) > 0.5 * 2  # well past its 0.5 s deadline
    assert "P-10" not in {r.rule for r in report.results}  # 3 s of CPU is within the budget


def test_a_client_over_its_cpu_budget_alone_gets_p10_and_its_parsing_rules_skip():
    # a 0.5 s budget for the test; the client needs 3 s of CPU before it even connects
    report = run_cases(nc.burns_before_reading_client, only=("LE-001",), rules=["none"], scale=0.1,
                       cpu_budget=0.5)
    by_rule = {r.rule: r for r in report.results}
    assert by_rule["C-08"].outcome is Outcome.SKIP and "of CPU" in by_rule["C-08"].message
    assert by_rule["P-10"].outcome is Outcome.WARN and report.ok  # a SHOULD: only --strict fails it


def test_the_cpu_budget_grows_with_the_bytes_a_case_sends():
    # 30 s for an ordinary case; 4 s per MiB on the large ones (40 s on the 10 MiB DA-017), far
    # from what a linear client needs there (under 1 s) and from what sseclient-py's quadratic
    # buffering needs in a new process (about 170 s)
    small, large = (load_cases("generic", case_id)[0] for case_id in ("LE-001", "DA-017"))
    assert cpu_budget(small) == CPU_BUDGET
    assert cpu_budget(large) == pytest.approx(40.0, abs=0.1)
    assert cpu_budget(small, base=0.5) == 0.5  # the base (ClientRun(cpu_budget=...)) still applies


def test_an_extra_event_at_the_end_that_comes_late_is_caught_whatever_the_load(tmp_path, monkeypatch):
    # FL-016 ends mid-event: a client must not dispatch the unterminated block, and this one
    # does, once it processed the end. Its first run gets there 3 s late and idle (a busy
    # machine's scheduler); the run used to end 0.15 s after the expected events and call that
    # a pass (sseclient-py's flip on FL-016[1-byte]). A stop before the client returned or
    # reconnected rests on time now, and the run alone sees the extra event.
    monkeypatch.setenv("SLOW_FIRST_DIR", str(tmp_path))
    report = run_client_suite(nc.late_leftover_client, pattern="FL-016", chunkings=["whole"])
    failed = [r for r in report.results if r.outcome is Outcome.FAIL]
    assert {r.rule for r in failed} >= {"C-33"}, bad(report)
    # the first attempt, stopped while the client was silent, had seen nothing wrong
    assert all(r.extra["alone"]["first"].endswith(": ok") for r in failed), [r.extra for r in failed]


def test_a_reconnecting_client_missing_an_event_is_judged_when_it_comes_back_not_on_time():
    # LE-015 ends "data: Hello\r\r" and closes; this client drops CR-only lines and reconnects
    # after 2 s. The run waits for that request (the 204 ends it): the missing event is a fact
    # the client showed, not a silence cut at 1 s and confirmed alone as a time-out.
    report = run_client_suite(nc.slow_reconnect_lf_only_client, pattern="LE-015", chunkings=["whole"])
    failed = [r for r in report.results if r.outcome is Outcome.FAIL]
    assert {r.rule for r in failed} >= {"C-08"}, bad(report)
    assert not any("alone" in r.extra for r in failed), [r.extra for r in failed]
    assert not any("gave up" in r.message or "timed out" in r.message for r in failed), failed[0].message


def test_only_cases_of_more_than_a_mib_get_a_process_of_their_own():
    sizes = {case.id: needs_fresh_process(case) for case in load_cases("generic")}
    assert {case for case, fresh in sizes.items() if fresh} == {"DA-013", "DA-014", "DA-017", "DA-018"}


def test_every_run_of_a_large_case_starts_in_a_new_process_that_is_gone_after(tmp_path, monkeypatch):
    # A client's CPU time on a large event depends on its process's state (sseclient-py: 8 s on
    # DA-013 in a warm worker, 42 s in a new one), and P-10 compares it with a budget: so each
    # large case starts from the same state, a process started for it, while small ones share.
    monkeypatch.setenv("PROCESS_STATE_DIR", str(tmp_path))
    report = run_client_suite(nc.process_state_client, pattern="DA-01[3-6]", concurrency=2)
    assert report.ok, bad(report)
    runs = [json.loads(path.read_text()) for path in tmp_path.iterdir()]
    large = [r for r in runs if "/DA-013/" in r["url"] or "/DA-014/" in r["url"]]
    small = [r for r in runs if r not in large]
    assert len(large) >= 4 and all(r["run"] == 1 for r in large), large
    assert len({r["pid"] for r in large}) == len(large)
    assert not any(alive(r["pid"]) for r in large)
    assert max(r["run"] for r in small) > 1  # the pool's workers still serve many runs each


def test_an_extra_event_a_busy_client_dispatches_late_at_the_end_is_still_caught():
    # DI-005 ends mid-event; this client dispatches the leftover after 1 s of CPU. The window
    # after the expected events (0.15 s) used to end first, and whether the extra was seen
    # depended on the load (sseclient-py's flips on DI-005); a client still using CPU is not done.
    report = run_cases(nc.slow_at_eof_client, only=("DI-005",), rules=["none"])
    failed = [r for r in report.results if r.rule == "C-33" and r.outcome is Outcome.FAIL]
    assert failed, bad(report)
    assert '"b"' in failed[0].message or "'b'" in failed[0].message or "b" in failed[0].actual, failed[0]


def test_a_client_retrying_forever_after_the_last_byte_gets_no_busy_time():
    # RC-001 serves two connections; this client reads the first, then retries every 50 ms
    # without reaching the server, using CPU each time, an error notification per try. It has
    # processed everything it was sent: its CPU is reconnecting, not parsing, and it gets no
    # busy slices (at a 0.1 scale, up to 60 s of them), in its first attempt nor alone.
    scale = 0.1
    report = run_cases(nc.retries_unreachably_client, only=("RC-001",), rules=["none"], scale=scale,
                       capabilities=nc.retries_unreachably_client.capabilities)
    failed = [r for r in report.results if r.outcome is Outcome.FAIL]
    assert failed, bad(report)
    assert all("alone" in r.extra for r in failed), [r.extra for r in failed]
    seconds = [r.seconds for r in report.results]
    assert max(seconds) < BUSY_LIMIT * scale / 4, seconds
    # alone, its errors are not signs of life: it is stopped as retrying after the idle window
    # (1.2 s here), not at its deadline
    assert all("retrying without reaching the server" in r.message for r in failed), failed[0].message
    assert all(r.extra["alone"]["seconds"] < r.extra["alone"]["bound"] for r in failed), failed[0].extra


def test_alone_an_idle_client_whose_stream_ended_is_given_a_reconnection_delay_to_come_back():
    # HT-013 serves "Text/Event-Stream": this client rejects it silently and retries 1.5 s later
    # (fetch-event-source does at 1 s). Alone, the idle cut came at 1 s, racing the retry, and
    # the failure read as a time-out; now the client comes back, gets the 204 and the run ends
    # on that: a fact, with no time-out in the message.
    report = run_cases(nc.exact_type_retrying_client, only=("HT-013",), rules=["none"])
    failed = [r for r in report.results if r.outcome is Outcome.FAIL]
    assert [r.rule for r in failed] == ["N-03"], bad(report)
    assert "alone" in failed[0].extra, failed[0].extra
    assert "gave up" not in failed[0].message and "timed out" not in failed[0].message, failed[0].message


def test_a_report_whose_bytes_keep_coming_is_waited_for_past_the_quiet_window():
    # the event's line arrives in six pieces over 2.4 s: more than the quiet window (1 s, 2 s
    # alone), but a piece every 0.4 s is a sign of life; cut at the window it was "reported 0
    # of 1 events" (the late-large and DA-017 cases failed so on a machine at load 35)
    report = run_client_suite(command("slow-line"), pattern="DA-001", chunkings=["whole"])
    assert report.ok, bad(report)
    assert not [r for r in report.results if "alone" in r.extra]  # no time bound decided it


def test_a_large_report_still_on_its_way_when_the_client_comes_back_is_waited_for():
    # the client writes half of DA-013's 5 MiB event line, reconnects (204), then the rest:
    # eventsource v2 did this on DA-017 on a busy machine, and the 204 ended the run before the
    # line was in ("reported 0 of 1 events": a verdict the load decided)
    report = run_client_suite(command("late-large"), pattern="DA-013", chunkings=["whole"])
    assert report.ok, bad(report)
