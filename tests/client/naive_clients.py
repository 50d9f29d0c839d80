"""Small SSE clients for the suite's own tests: correct ones, and deliberately broken ones.

Each broken client is the correct pipeline with exactly one stage replaced by a bug seen in
real clients (design/ecosystem.md), so a test can assert the suite blames the right rule.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import itertools
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator

import httpx

from conformance.sse import EventParser

# Shared: a new httpx.Client costs ~80 ms of TLS set-up.
HTTP = httpx.Client(timeout=10)
REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 20
CREDENTIALS = {"authorization", "cookie"}


def _chunks(url: str, **options: object) -> Iterator[bytes]:
    """The raw body of one request, redirects followed the Fetch way; raises like EventSource
    fails the connection (non-200, wrong type, a 3xx without Location)."""
    headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
    headers.update(options.get("headers") or {})  # type: ignore[call-overload]
    if options.get("last_event_id"):
        headers["Last-Event-ID"] = str(options["last_event_id"])
    method, body = str(options.get("method") or "GET"), options.get("body")
    target = httpx.URL(url)
    for _ in range(MAX_REDIRECTS):
        with HTTP.stream(method, target, headers=headers, content=body) as response:  # type: ignore[arg-type]
            if response.status_code in REDIRECTS:
                location = response.headers.get("location")
                if not location:
                    raise ConnectionError(f"{response.status_code} without a Location")
                following = target.join(location)
                if _origin(following) != _origin(target):
                    headers = {k: v for k, v in headers.items() if k.lower() not in CREDENTIALS}
                if response.status_code == 303:
                    method, body = "GET", None
                target = following
                continue
            essence = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if response.status_code != 200 or essence != "text/event-stream":
                raise ConnectionError(f"status {response.status_code}, type {essence!r}")
            yield from response.iter_raw()
            return
    raise ConnectionError("too many redirects")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


# -- correct clients ----------------------------------------------------------------------


def good_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """One connection through the suite's own parser: should pass everything it declares."""
    parser = EventParser(last_event_id=str(options.get("last_event_id") or ""))
    for chunk in _chunks(url, **options):
        for event in parser.feed(chunk):
            yield event.as_dict()


good_client.capabilities = ("headers", "post", "last-event-id")  # type: ignore[attr-defined]


def reconnecting_client(url: str, *, forget_id: bool = False, share: float = 1.0,
                        **options: object) -> Iterator[dict[str, str]]:
    """Reconnects after EOF until a 204; ``forget_id`` drops Last-Event-ID (the broken one);
    ``share``: of the reconnection time it waits (the hasty one waits a tenth)."""
    parser = EventParser(retry=int(options.get("initial_retry_ms") or 10))  # type: ignore[call-overload]
    while True:
        with HTTP.stream("GET", url, headers=_resume_headers(parser, forget_id)) as response:
            if response.status_code == 204:
                return
            if response.status_code != 200:
                raise ConnectionError(f"status {response.status_code}")
            try:
                for chunk in response.iter_raw():
                    for event in parser.feed(chunk):
                        yield event.as_dict()
            except httpx.TransportError:
                pass  # a dropped connection: reconnect like EOF
        parser.close()
        parser.reset()
        time.sleep(share * (parser.retry or 0) / 1000)


def _resume_headers(parser: EventParser, forget_id: bool) -> dict[str, bytes]:
    """Last-Event-ID is sent UTF-8 encoded (N-11), which httpx only does for bytes values."""
    if forget_id or not parser.last_event_id:
        return {}
    return {"Last-Event-ID": parser.last_event_id.encode("utf-8")}


reconnecting_client.capabilities = ("reconnect", "retry", "close")  # type: ignore[attr-defined]


def hasty_reconnecting_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """:func:`reconnecting_client` waiting a tenth of the reconnection time (N-13's bug)."""
    return reconnecting_client(url, share=0.1, **options)


hasty_reconnecting_client.capabilities = reconnecting_client.capabilities  # type: ignore[attr-defined]


TICK = 0.1  # how often the ticking clients' runtime wakes for nothing


def _ticks(stop: threading.Event) -> None:
    while not stop.wait(TICK):
        pass


def ticking_lf_only_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Ends lines at LF only, in a process whose runtime wakes every 100 ms for nothing (undici's
    timer tick in Node): after a CR-ended event on a stream held open it waits, and its ticks
    must not make it look busy until the deadline."""
    stop = threading.Event()
    threading.Thread(target=_ticks, args=(stop,), daemon=True).start()
    try:
        yield from naive_lf_only(url, **options)
    finally:
        stop.set()


def ticking_read_timeout_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Reconnects with the last id when no byte came for ``read_timeout_ms``, checked on a
    100 ms tick: its ticks change nothing until the time-out passes, then it acts, so on a
    case about that time-out its ticks are work to come, not housekeeping."""
    import queue

    parser = EventParser(retry=int(options.get("initial_retry_ms") or 10))  # type: ignore[call-overload]
    limit = int(options.get("read_timeout_ms") or 0) / 1000 or None
    while True:
        with HTTP.stream("GET", url, headers=_resume_headers(parser, False)) as response:
            if response.status_code == 204:
                return
            chunks: queue.Queue[bytes | None] = queue.Queue()

            def pump(response: httpx.Response = response, chunks: queue.Queue = chunks) -> None:
                with contextlib.suppress(httpx.HTTPError):
                    for chunk in response.iter_raw():
                        chunks.put(chunk)
                chunks.put(None)

            threading.Thread(target=pump, daemon=True).start()
            last = time.monotonic()
            while limit is None or time.monotonic() - last < limit:
                try:
                    chunk = chunks.get(timeout=TICK)
                except queue.Empty:
                    continue  # a tick: nothing came, nothing to do yet
                if chunk is None:
                    break
                last = time.monotonic()
                for event in parser.feed(chunk):
                    yield event.as_dict()
        parser.close()
        parser.reset()
        time.sleep((parser.retry or 0) / 1000)


ticking_read_timeout_client.capabilities = ("reconnect", "retry", "read-timeout")  # type: ignore[attr-defined]


def crashing_on_comeback_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Right events, then a crash 0.5 s later, on the way back (as requests-sse raised sending a
    Last-Event-ID it cannot encode, after ID-011's retry): the crash must be seen, every time."""
    yield from good_client(url, **options)
    time.sleep(0.5)
    raise UnicodeEncodeError("latin-1", "\u2026", 0, 1, "ordinal not in range(256)")


crashing_on_comeback_client.capabilities = ("reconnect", "retry")  # type: ignore[attr-defined]


def forgets_last_event_id(url: str, **options: object) -> Iterator[dict[str, str]]:
    return reconnecting_client(url, forget_id=True, **options)


forgets_last_event_id.capabilities = ("reconnect", "retry")  # type: ignore[attr-defined]


def notifying_client(url: str, *, bug: str = "", **options: object) -> Iterator[dict[str, object]]:
    """Reconnects like :func:`reconnecting_client` and reports ``{"open": true}`` for each 200
    event stream and ``{"error": true}`` for each end, drop or failure (capability
    notifications). ``bug``: ``silent-reconnect`` reports an error only when it gives up;
    ``open-on-any-status`` reports open for every response, before looking at it."""
    parser = EventParser(retry=int(options.get("initial_retry_ms") or 10))  # type: ignore[call-overload]
    while True:
        try:
            headers = _resume_headers(parser, False)
            with HTTP.stream("GET", url, headers=headers, follow_redirects=True) as response:
                if bug == "open-on-any-status":
                    yield {"open": True}
                essence = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if response.status_code == 204:
                    yield {"error": True}
                    return
                if response.status_code != 200 or essence != "text/event-stream":
                    yield {"error": True}
                    raise ConnectionError(f"status {response.status_code}, type {essence!r}")
                if bug != "open-on-any-status":
                    yield {"open": True}
                with contextlib.suppress(httpx.TransportError):  # dropped: reconnect like EOF
                    for chunk in response.iter_raw():
                        for event in parser.feed(chunk):
                            yield event.as_dict()
        except httpx.TransportError:
            pass  # no response at all (N-09): reconnect
        if bug != "silent-reconnect":
            yield {"error": True}
        parser.close()
        parser.reset()
        time.sleep((parser.retry or 0) / 1000)


def silent_reconnect_client(url: str, **options: object) -> Iterator[dict[str, object]]:
    return notifying_client(url, bug="silent-reconnect", **options)


def opens_on_any_status_client(url: str, **options: object) -> Iterator[dict[str, object]]:
    return notifying_client(url, bug="open-on-any-status", **options)


for _client in (notifying_client, silent_reconnect_client, opens_on_any_status_client):
    _client.capabilities = ("reconnect", "retry", "notifications")  # type: ignore[attr-defined]


# -- a naive parser with one switchable bug per stage --------------------------------------

_TERMINATOR = re.compile(r"\r\n|\r|\n")


class Naive:
    """Text decoding, line splitting, field parsing and dispatch, each with an optional bug."""

    def __init__(self, bug: str) -> None:
        self.bug = bug
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.buffer = ""
        self.skip_lf = False
        self.data: list[str] = []
        self.type = ""
        self.id = ""
        self.block_id = ""

    def decode(self, chunk: bytes) -> str:
        if self.bug == "decode-per-chunk":
            return chunk.decode("utf-8", "replace")
        return self.decoder.decode(chunk)

    def lines(self, text: str) -> list[str]:
        if self.skip_lf and text.startswith("\n"):
            text = text[1:]
        self.skip_lf = False
        data = self.buffer + text
        if self.bug == "lf-only":
            parts = [p.removesuffix("\r") for p in data.split("\n")]
            parts[-1] = data.rsplit("\n", 1)[-1]
        else:
            parts = _TERMINATOR.split(data)
            self.skip_lf = data.endswith("\r")
        if self.bug == "no-buffering":
            self.buffer = ""
            return parts if parts[-1] else parts[:-1]
        self.buffer = parts.pop()
        return parts

    def field(self, line: str) -> tuple[str, str] | None:
        if self.bug == "needs-space":
            name, sep, value = line.partition(": ")
            return (name, value) if sep else None
        name, _, value = line.partition(":")
        if self.bug == "strips-all-whitespace":
            return name, value.lstrip()
        return name, value[1:] if value.startswith(" ") else value

    def feed(self, chunk: bytes) -> list[dict[str, str]]:
        events = []
        for line in self.lines(self.decode(chunk)):
            if not line:
                events += self.dispatch()
            elif not line.startswith(":") and (parsed := self.field(line)) is not None:
                self.apply(*parsed)
        return events

    def apply(self, name: str, value: str) -> None:
        if name == "data":
            self.data.append(value)
        elif name == "event":
            self.type = value
        elif name == "id" and "\0" not in value:
            self.id = value

    def dispatch(self) -> list[dict[str, str]]:
        events = []
        if self.data:
            events.append({"event": self.type or "message", "data": "\n".join(self.data), "id": self.id})
        self.data = []
        if self.bug != "keeps-event-type":
            self.type = ""
        return events

    def close(self) -> list[dict[str, str]]:
        return self.dispatch() if self.bug == "dispatches-at-eof" else []


def naive_client(bug: str):
    def client(url: str, **options: object) -> Iterator[dict[str, str]]:
        parser = Naive(bug)
        for chunk in _chunks(url, **options):
            yield from parser.feed(chunk)
        yield from parser.close()

    client.__name__ = client.__qualname__ = f"naive_{bug.replace('-', '_')}"
    return client


naive_lf_only = naive_client("lf-only")  # importable by name for the CLI and pytest faces


def slow_at_eof_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Dispatches the event left pending at EOF (C-33's bug), but only after 1 s of CPU: a
    settle window that a busy client outlasts must not hide it."""
    parser = Naive("dispatches-at-eof")
    for chunk in _chunks(url, **options):
        yield from parser.feed(chunk)
    _burn(1.0)
    yield from parser.close()


# -- openai-profile clients -----------------------------------------------------------------


def openai_client(url: str, *, bug: str = "", **options: object) -> str:
    """Assembles delta content and returns at [DONE]; raises on an error payload."""
    parser = EventParser()
    text: list[str] = []
    for chunk in _chunks(url, **options):
        for event in parser.feed(chunk):
            if event.data == "[DONE]":
                if bug == "ignores-done":
                    continue
                return "".join(text)
            payload = json.loads(event.data)
            if event.event == "error" or "error" in payload:
                if bug == "swallows-error":
                    return "".join(text)
                raise RuntimeError(f"stream error: {payload}")
            choices = payload.get("choices") or [{}]
            text.append((choices[0].get("delta") or {}).get("content") or "")
    if bug == "ignores-done":
        return "".join(text)
    raise RuntimeError("the stream ended without [DONE]")


def openai_ignores_done(url: str, **options: object) -> str:
    return openai_client(url, bug="ignores-done", **options)


def openai_swallows_error(url: str, **options: object) -> str:
    return openai_client(url, bug="swallows-error", **options)


# -- hostile clients --------------------------------------------------------------------------


def hanging_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    threading.Event().wait()  # never returns: the runner must stop waiting on its own
    yield {}


def reconnects_forever(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Ignores 204 and every failure: requests again at once, forever."""
    parser = EventParser()
    while True:
        with HTTP.stream("GET", url) as response:
            for chunk in response.iter_raw():
                for event in parser.feed(chunk):
                    yield event.as_dict()
        parser.reset()


reconnects_forever.capabilities = ("reconnect",)  # type: ignore[attr-defined]


def crashing_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Right so far (LE-001's first event), then a crash: the crash is why the rest is missing."""
    yield {"data": "cr"}
    raise ZeroDivisionError("the adapter has a bug")


def wrong_then_crashing_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """A wrong event, then a crash: the wrong event is the fact, whenever the crash comes."""
    yield {"data": "first"}
    raise ZeroDivisionError("the adapter has a bug")


def noisy_crashing_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Writes a line to stderr on every case and crashes on LE-002: the crash names only its own."""
    print(f"noise from {url}", file=sys.stderr, flush=True)
    if "/LE-002/" in url:
        raise ZeroDivisionError("crash on LE-002")
    yield from good_client(url, **options)


def garbage_client(url: str, **options: object) -> Iterator[object]:
    yield 42


async def async_good_client(url: str, **options: object):
    """An async generator target (run on its own loop by the runner). No read time-out: on a
    held-open case (LE-047) a stream read waits for the server, as an SSE client's must."""
    async with (httpx.AsyncClient(follow_redirects=True, timeout=httpx.Timeout(10, read=None)) as client,
                client.stream("GET", url) as response):
        essence = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if response.status_code != 200 or essence != "text/event-stream":
            raise ConnectionError(f"status {response.status_code}, type {essence!r}")
        parser = EventParser()
        async for chunk in response.aiter_raw():
            for event in parser.feed(chunk):
                yield event.as_dict()


# -- slow, flooding and hostile clients (isolation and bounds) --------------------------------

SLOW_CPU_PER_MIB = 0.3  # seconds of CPU per MiB received: 1.5 s on the 5 MiB event


def _burn(seconds: float) -> None:
    """Spend ``seconds`` of this thread's CPU (not wall clock): what a slow parser does."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def slow_good_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Correct, but pays SLOW_CPU_PER_MIB of CPU per MiB, like a naive pure-Python parser."""
    parser = EventParser(last_event_id=str(options.get("last_event_id") or ""))
    for chunk in _chunks(url, **options):
        _burn(len(chunk) * SLOW_CPU_PER_MIB / (1 << 20))
        for event in parser.feed(chunk):
            yield event.as_dict()


slow_good_client.capabilities = good_client.capabilities  # type: ignore[attr-defined]


def silent_cpu_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Correct, but works 2.5 s of CPU, reporting nothing, before it reports anything: busy is
    not silent."""
    parser = EventParser()
    chunks = _chunks(url, **options)
    first = next(chunks)
    _burn(2.5)
    for chunk in itertools.chain([first], chunks):
        for event in parser.feed(chunk):
            yield event.as_dict()


def flooding_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Reports events without end, as fast as it can."""
    item = {"event": "message", "data": "x" * 100, "id": ""}
    while True:
        yield item


class _Hostile:
    """An object whose every string conversion raises."""

    def __str__(self) -> str:
        raise RuntimeError("__str__ is broken")

    __repr__ = __str__

    @property
    def data(self) -> str:
        raise RuntimeError("data is broken")


def hostile_object_client(url: str, **options: object) -> Iterator[object]:
    yield _Hostile()


def leaks_thread_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Correct, but leaves a non-daemon thread sleeping for an hour."""
    threading.Thread(target=time.sleep, args=(3600,), daemon=False).start()
    yield from good_client(url, **options)


def crashes_after_a_stopped_run_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Correct, but a run stopped before it finished leaves something behind that kills its
    process during the next run (npm eventsource v2 throws from the reconnect timer of an
    EventSource closed earlier): only the process's first run, or a run after a finished
    one, is safe."""
    import os

    global _stopped_here
    if _stopped_here:
        os._exit(1)
    _stopped_here = True
    yield from good_client(url, **options)
    _stopped_here = False


_stopped_here = False  # a run of this process was stopped before it finished


def wildcard_accept_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Parses right but sends Accept: */*: a SHOULD (N-01) finding and nothing else (--strict)."""
    headers = {**(options.get("headers") or {}), "Accept": "*/*"}  # type: ignore[dict-item]
    yield from good_client(url, **{**options, "headers": headers})


def slow_reconnect_lf_only_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Ends lines at LF only (a CR-only stream gives it no event), and reconnects 2 s after each
    end until a 204, like eventsource-client: its missing events are shown by its coming back."""
    while True:
        parser = Naive("lf-only")
        with HTTP.stream("GET", url) as response:
            if response.status_code == 204:
                return
            for chunk in response.iter_raw():
                yield from parser.feed(chunk)
        time.sleep(2)


slow_reconnect_lf_only_client.capabilities = ("reconnect",)  # type: ignore[attr-defined]


def retries_unreachably_client(url: str, **options: object) -> Iterator[dict[str, object]]:
    """Reads the first connection right, then can never reconnect (undici's fetch rejects a
    non-ASCII Last-Event-ID before sending): reports an error and tries again every 50 ms,
    using CPU on each try, forever, without reaching the server."""
    parser = EventParser(retry=50)
    for chunk in _chunks(url, **options):
        for event in parser.feed(chunk):
            yield event.as_dict()
    while True:
        yield {"error": True}
        _burn(0.02)
        time.sleep(0.03)


retries_unreachably_client.capabilities = ("reconnect", "retry", "notifications")  # type: ignore[attr-defined]


def exact_type_retrying_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Compares Content-Type case-sensitively (fetch-event-source): on a mismatch it reports
    nothing and tries again 1.5 s later, without saying it reconnects; returns on a 204."""
    while True:
        with HTTP.stream("GET", url) as response:
            if response.status_code == 204:
                return
            if response.headers.get("content-type", "").startswith("text/event-stream"):
                parser = EventParser()
                for chunk in response.iter_raw():
                    for event in parser.feed(chunk):
                        yield event.as_dict()
                return
        time.sleep(1.5)


def timer_then_reports_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Correct, but reads the whole body first and then sleeps 1.5 s on a timer before it
    reports anything: asleep with a timer due is not waiting."""
    parser = EventParser()
    events = [event for chunk in _chunks(url, **options) for event in parser.feed(chunk)]
    time.sleep(1.5)
    for event in events:
        yield event.as_dict()


def waits_forever_after_reading_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """Reads the whole body and then waits on nothing, forever, without reporting: asleep, every
    byte read, no timer due. What it reported (nothing) is final."""
    for _ in _chunks(url, **options):
        pass
    threading.Event().wait()
    yield {}


def quadratic_client(url: str, step: int = 128, **options: object) -> Iterator[dict[str, str]]:
    """Correct, but joins a line's pieces with ``buffer += chunk`` and searches the whole buffer
    again on every read: CPU time grows with the square of a long line (P-10)."""
    buffer = b""
    for chunk in _chunks(url, **options):
        for start in range(0, len(chunk), step):  # small reads, as a slow network gives
            kept = buffer
            buffer = kept + chunk[start:start + step]  # a new copy of the whole buffer each time
        text = buffer.decode("utf-8")
        while "\n\n" in text:
            block, text = text.split("\n\n", 1)
            data = [line[6:] if line.startswith("data: ") else line[5:] for line in block.split("\n")
                    if line.startswith("data:")]
            if data:
                yield {"data": "\n".join(data)}
        buffer = text.encode("utf-8")


def very_quadratic_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """:func:`quadratic_client` reading 8 bytes at a time: sixteen times the reads, its
    5 MiB line projected far past a 25 s deadline."""
    return quadratic_client(url, step=8, **options)


def quadratic_ignoring_204_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """:func:`very_quadratic_client` that comes back whatever it is told, a 204 included (as the
    legacy sseclient does): its runs end on its request past the 204, never on its return."""
    while True:
        with contextlib.suppress(ConnectionError):
            yield from quadratic_client(url, step=8, **options)


quadratic_ignoring_204_client.capabilities = ("reconnect",)  # type: ignore[attr-defined]


# -- where a run happens (lanes) ---------------------------------------------------------------

WHERE = "SSE_TEST_WHERE"  # a file each run appends "pid cpus thread-name" to, when set
_runs_here = itertools.count(1)
_one_run_at_a_time = threading.Lock()  # a lane's threads count and note their runs in turn


def _record_where() -> None:
    path = os.environ.get(WHERE)
    if path:
        with open(path, "a", encoding="utf-8") as where:
            usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
            cpus = ",".join(map(str, usable)) or "-"
            where.write(f"{os.getpid()} {cpus} {threading.current_thread().name}\n")


def where_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """The good client, noting the process and thread each run had."""
    _record_where()
    yield from good_client(url, **options)


def dies_in_a_lane_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """The good client, except that its process ends (``os._exit``) at the tenth run of a lane;
    in a worker of its own it never does. Its runs are noted and counted under one lock, which
    the tenth keeps while it ends the process: no other thread of the lane notes an eleventh."""
    with _one_run_at_a_time:
        _record_where()
        if threading.current_thread().name.startswith("sse-client ") and next(_runs_here) == 10:
            os._exit(3)
    yield from good_client(url, **options)


def holds_the_gil_in_a_lane_client(url: str, **options: object) -> Iterator[dict[str, str]]:
    """The good client, except that at the fifth run of a lane it calls libc's sleep for a minute
    with the GIL held (ctypes.PyDLL does not release it): the lane's event loop stops, deadlines
    and all. It marks the minute's end in ``$SSE_TEST_WHERE.after``, which it never reaches when
    the suite stops the lane first."""
    _record_where()
    if threading.current_thread().name.startswith("sse-client ") and next(_runs_here) == 5:
        ctypes.PyDLL(None).sleep(60)
        with open(os.environ[WHERE] + ".after", "w", encoding="utf-8"):
            pass
    yield from good_client(url, **options)
