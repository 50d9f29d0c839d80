"""Python workers forked from one pre-imported process: each is a worker like a started one, in a
process group of its own, its exit status reported; a target that cannot be forked safely
(its import starts a thread) is started as processes instead."""

from __future__ import annotations

import asyncio
import json
import os
import signal

from conformance.client.forkserver import ForkServer
from conformance.client.protocol import python_worker_env
from conformance.client.runner import run_client_suite
from conformance.client.targets import PythonTarget, load_target
from conformance.results import Outcome

SPEC = "reference_clients.httpx_client:conformance_target"


async def _say(proc, message: dict) -> dict:
    proc.stdin.write(json.dumps(message).encode() + b"\n")
    await proc.stdin.drain()
    return json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))


def test_forked_workers_speak_the_protocol_each_in_a_group_of_its_own():
    async def main():
        server = ForkServer(SPEC, env=python_worker_env())
        assert await server.start()
        try:
            workers = await asyncio.gather(*(server.spawn() for _ in range(3)))
            pids = {w.pid for w in workers}
            assert len(pids) == 3 and server.proc.pid not in pids
            for worker in workers:
                assert os.getpgid(worker.pid) == worker.pid  # killed whole, children included
                hello = await _say(worker, {"cmd": "start", "protocol": 1})
                assert hello["ready"] is True and "reconnect" in hello["implementation"]["capabilities"]
            first, second, third = workers
            first.stdin.write(b'{"cmd": "stop"}\n')
            os.kill(second.pid, signal.SIGKILL)
            third.stdin.close()  # the suite went away: the worker ends on EOF
            return [await asyncio.wait_for(w.wait(), 30) for w in workers]
        finally:
            await server.stop()

    assert asyncio.run(main()) == [0, -signal.SIGKILL, 0]


def test_a_stopped_fork_server_refuses_to_spawn():
    async def main():
        server = ForkServer(SPEC, env=python_worker_env())
        assert await server.start()
        await server.stop()
        try:
            await server.spawn()
        except OSError as error:
            return str(error)
        return None

    assert asyncio.run(main()) == "the fork server is not running"


def test_a_target_whose_import_starts_a_thread_runs_in_started_workers(tmp_path, monkeypatch):
    (tmp_path / "threaded_target.py").write_text(
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        "from reference_clients.httpx_client import conformance_target as target\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    async def forkable():
        server = ForkServer("threaded_target:target", env=python_worker_env())
        try:
            return await server.start()
        finally:
            await server.stop()

    assert asyncio.run(forkable()) is False  # a fork would lose the thread the import started
    target = load_target("threaded_target:target")
    assert isinstance(target, PythonTarget)
    report = run_client_suite(target, pattern="EN-001", chunkings=["whole"])
    assert report.results and {r.outcome for r in report.results} == {Outcome.PASS}
    assert target.forks is None


def test_a_client_run_goes_through_forked_workers(monkeypatch):
    forked: list[int] = []
    spawn = ForkServer.spawn

    async def counted(self):
        worker = await spawn(self)
        forked.append(worker.pid)
        return worker

    monkeypatch.setattr(ForkServer, "spawn", counted)
    target = load_target(SPEC)
    # DA-013 (5 MiB) runs in a process started for it alone: forked too; DA-003 in the pool
    report = run_client_suite(target, pattern="DA-0[01]3", chunkings=["whole"])
    assert {r.outcome for r in report.results} == {Outcome.PASS}
    assert len(forked) >= 2 and target.forks is None  # the server is stopped with the run


def test_without_forking_workers_are_started_as_processes(monkeypatch):
    monkeypatch.setenv("SSE_CONFORMANCE_NO_FORK", "1")

    async def starter():
        target = load_target(SPEC)
        return await target.pool_starter()

    assert asyncio.run(starter()) is None
