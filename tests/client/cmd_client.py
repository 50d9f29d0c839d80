"""A client "in another language" for the --cmd target: prints one JSON event per line.

Usage: python cmd_client.py URL [garbage|hang|openai|openai-tokens|fork|fork-hang|hugeline|notify|
notify-silent|late-large|slow-line].
Exits 1 when the connection fails;
with ``openai`` it prints the assembled text at [DONE] and exits 1 on an error payload
(``openai-tokens``: each piece as it comes, a write each, as a chat client shows them); with
``notify`` it also prints ``{"open": true}`` once the stream is accepted and ``{"error": true}``
when the connection fails or ends (capability notifications); ``notify-silent`` never prints
the error (the faulty one).
"""

import contextlib
import json
import os
import sys
import time
import urllib.error
import urllib.request

from conformance.sse import EventParser


def fork_child() -> None:
    """Fork a child that outlives us unless the suite kills our whole process group; its pid
    goes to $FORK_PID_FILE."""
    pid = os.fork()
    if pid == 0:
        time.sleep(3600)
        os._exit(0)
    with open(os.environ["FORK_PID_FILE"], "w") as handle:
        handle.write(str(pid))


def huge_line() -> None:
    """Print one line of 1 GiB (no newline until the end), written a MiB at a time."""
    block = b"x" * (1 << 20)
    with contextlib.suppress(BrokenPipeError):
        for _ in range(1024):
            sys.stdout.buffer.write(block)
        sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()


def late_large(url: str) -> int:
    """Reads the stream right, writes half of its (large) event's line, reconnects (a 204), and
    only then writes the rest: a report still on its way when the next request comes."""
    parser = EventParser()
    events = parser.feed(urllib.request.urlopen(url, timeout=10).read())
    line = "".join(json.dumps(event.as_dict()) + "\n" for event in events)
    half = len(line) // 2
    sys.stdout.write(line[:half])
    sys.stdout.flush()
    with contextlib.suppress(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=10).read()
    time.sleep(0.5)
    sys.stdout.write(line[half:])
    sys.stdout.flush()
    return 0


def slow_line(url: str) -> int:
    """Reads the stream right, then writes its events' line in six pieces 0.4 s apart: a report
    that takes longer to arrive than the quiet window, though bytes of it keep coming (a large
    event written through a pipe on a starved machine)."""
    parser = EventParser()
    events = parser.feed(urllib.request.urlopen(url, timeout=10).read())
    line = "".join(json.dumps(event.as_dict()) + "\n" for event in events)
    step = -(-len(line) // 6)
    for start in range(0, len(line), step):
        sys.stdout.write(line[start : start + step])
        sys.stdout.flush()
        time.sleep(0.4)
    return 0


def main(url: str, mode: str) -> int:
    if mode == "late-large":
        return late_large(url)
    if mode == "slow-line":
        return slow_line(url)
    if mode == "hang":
        time.sleep(3600)
    if mode.startswith("fork"):
        fork_child()
        if mode == "fork-hang":
            time.sleep(3600)
    if mode == "hugeline":
        huge_line()
        return 0
    notify = (lambda kind: print(json.dumps({kind: True}), flush=True)) if mode == "notify" else None
    if mode == "notify-silent":
        notify = lambda kind: kind == "open" and print(json.dumps({kind: True}), flush=True)  # noqa: E731
    try:
        response = urllib.request.urlopen(url, timeout=10)
    except urllib.error.HTTPError as error:
        print(f"status {error.code}", file=sys.stderr)
        notify and notify("error")
        return 1
    essence = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if response.status != 200 or essence != "text/event-stream":
        print(f"status {response.status}, type {essence!r}", file=sys.stderr)
        notify and notify("error")
        return 1
    notify and notify("open")
    if mode == "garbage":
        print("this is not JSON", flush=True)
    if mode == "raw":  # the body as it comes, as `curl -sN {url}` prints it: no adapter at all
        while chunk := response.read1(65536):
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
        return 0
    parser = EventParser()
    text = []
    while chunk := response.read1(65536):
        for event in parser.feed(chunk):
            if not mode.startswith("openai"):
                print(json.dumps(event.as_dict()), flush=True)
            elif event.data == "[DONE]":
                print("" if mode == "openai-tokens" else "".join(text))
                return 0
            else:
                payload = json.loads(event.data)
                if event.event == "error" or "error" in payload:
                    print(f"stream error: {payload}", file=sys.stderr)
                    return 1
                choices = payload.get("choices") or [{}]
                text.append((choices[0].get("delta") or {}).get("content") or "")
                if mode == "openai-tokens":
                    print(text[-1], end="", flush=True)
                    time.sleep(0.05)  # a person reads along: each piece is a write of its own
    notify and notify("error")  # the body ended: a client that does not reconnect gives up
    return 1 if mode.startswith("openai") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""))
