"""The runner page Chromium loads from the case server: it drives ``EventSource`` through jobs.

It long-polls ``next`` for a job (a case URL and the event types to listen for), opens an
``EventSource``, posts every event it hears and every ``open`` and ``error`` the connection
fires (capability notifications), each with a sequence number since posts may overtake each
other, and finally posts how it ended: ``closed`` (readyState CLOSED after an error), ``eof``
(the connection ended and a one-connection case is over) or ``timeout``.
"""

from __future__ import annotations

__all__ = ["PAGE"]

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>sse-conformance browser runner</title>
<script>
const base = '/__browser';
const post = (path, body) => fetch(base + path, {method: 'POST', body: JSON.stringify(body),
                                                 headers: {'Content-Type': 'application/json'}});

function run(job) {
  const source = new EventSource(job.url);
  let seq = 0, over = false;
  const heard = (event) => {
    // a listener for "error" or "open" also hears the connection's own events, which carry no data
    if (over || typeof event.data !== 'string') return;
    post('/event', {id: job.id, seq: seq++, event: event.type, data: event.data, last: event.lastEventId});
  };
  const finish = (how) => {
    if (over) return;
    over = true;
    source.close();
    clearTimeout(timer);
    post('/done', {id: job.id, how, count: seq});
  };
  const notice = (kind) => over || post('/event', {id: job.id, seq: seq++, notice: kind});
  for (const type of job.types) source.addEventListener(type, heard);
  source.onopen = (event) => typeof event.data === 'string' || notice('open'); // not a message
  source.onerror = (event) => {
    if (typeof event.data === 'string') return; // a message whose type is "error"
    notice('error');
    if (source.readyState === EventSource.CLOSED) finish('closed');
    else if (job.single) finish('eof');
  };
  const timer = setTimeout(() => finish('timeout'), job.timeout_ms);
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
"""
