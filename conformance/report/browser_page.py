"""The pages Chromium runs: a runner page that takes jobs, and a frame per job that drives ``EventSource``.

The runner page (loaded from the case server) long-polls ``next`` for a job: a case URL on a
host name of its own, the frame URL on that host, and the event types to listen for. It opens
the frame, which opens the ``EventSource`` (same origin, so no CORS), and relays what the frame
tells it: every event the source hears and every ``open`` and ``error`` it fires (capability
notifications), each with a sequence number since posts may overtake each other, and finally how
it ended: ``closed`` (readyState CLOSED after an error), ``eof`` (the connection ended and a
one-connection case is over) or ``timeout``.

Why a host and a frame per job: Chromium resends a GET that got no response when it went out on
a reused keep-alive connection, and fires ``error`` when it went out on a fresh one. Which one a
case's first request gets must not depend on what else the browser did a moment before, so each
case runs on a host nothing else has connected to, and the frame is served with
``Connection: close``: the case's first request always opens a fresh connection.
"""

from __future__ import annotations

__all__ = ["FRAME", "PAGE"]

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>sse-conformance browser runner</title>
<script>
const base = '/__browser';
const post = (path, body) => fetch(base + path, {method: 'POST', body: JSON.stringify(body),
                                                 headers: {'Content-Type': 'application/json'}});
const frames = new Map();

window.addEventListener('message', (message) => {
  const {kind, body} = message.data;
  if (kind === 'event') post('/event', body);
  if (kind === 'done') {
    post('/done', body);
    const frame = frames.get(body.id);
    frames.delete(body.id);
    if (frame) frame.remove();
  }
});

function run(job) {
  const frame = document.createElement('iframe');
  frame.src = job.frame + '#' + encodeURIComponent(JSON.stringify(job));
  frames.set(job.id, frame);
  document.body.append(frame);
}

async function loop() {
  for (;;) {
    try {
      const response = await fetch(base + '/next');
      if (response.status === 200) run(await response.json());
      else if (response.status === 410) return;
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
loop();
</script>
<body></body>
"""

FRAME = """<!doctype html>
<meta charset="utf-8">
<title>sse-conformance browser job</title>
<script>
const job = JSON.parse(decodeURIComponent(location.hash.slice(1)));
const tell = (kind, body) => parent.postMessage({kind, body}, '*');
const source = new EventSource(job.url);
let seq = 0, over = false;
const heard = (event) => {
  // a listener for "error" or "open" also hears the connection's own events, which carry no data
  if (over || typeof event.data !== 'string') return;
  tell('event', {id: job.id, seq: seq++, event: event.type, data: event.data, last: event.lastEventId});
};
const finish = (how) => {
  if (over) return;
  over = true;
  source.close();
  clearTimeout(timer);
  tell('done', {id: job.id, how, count: seq});
};
const notice = (kind) => over || tell('event', {id: job.id, seq: seq++, notice: kind});
for (const type of job.types) source.addEventListener(type, heard);
source.onopen = (event) => typeof event.data === 'string' || notice('open'); // not a message
source.onerror = (event) => {
  if (typeof event.data === 'string') return; // a message whose type is "error"
  notice('error');
  if (source.readyState === EventSource.CLOSED) finish('closed');
  else if (job.single) finish('eof');
};
const timer = setTimeout(() => finish('timeout'), job.timeout_ms);
</script>
"""
