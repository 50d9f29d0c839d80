// The persistent adapter protocol (conformance/client/protocol.py) for Node clients: one process
// serves many runs, JSON lines on stdin/stdout. A driver gives `run(ctx)`; this module does the
// rest: the handshake, `seq` on every message, close_after_events, restart_after_events,
// close/cancel/stop.
import { createInterface } from 'node:readline';

const send = (message) => process.stdout.write(JSON.stringify(message) + '\n');

export function serve({ name, version, capabilities, run }) {
  const runs = new Map();

  function start(message) {
    const { seq, url, profile } = message;
    const inputs = message.inputs ?? {};
    const closers = [];
    const restarters = [];
    let ended = false;
    let count = 0;
    const closeAll = () => closers.splice(0).forEach((close) => close());
    const ctx = {
      url,
      profile,
      inputs,
      onClose: (close) => closers.push(close),
      onRestart: (restart) => restarters.push(restart), // capability restart: drop and reconnect
      event(type, data, id) {
        if (ended) return;
        send({ seq, event: { type: type || 'message', data, id: id ?? '' } });
        count += 1;
        if (inputs.close_after_events != null && count >= inputs.close_after_events) {
          closeAll(); // the client's own close API: stop, and never reconnect
          ctx.end('returned');
        } else if (count === inputs.restart_after_events) {
          restarters.forEach((restart) => restart());
        }
      },
      comment: (text) => !ended && send({ seq, comment: text }),
      opened: () => !ended && send({ seq, open: true }),
      errored: () => !ended && send({ seq, error: true }), // capability notifications
      text: (value) => !ended && send({ seq, text: value }),
      end(how, error) {
        if (ended) return;
        ended = true;
        runs.delete(seq);
        send(error ? { seq, end: how, error: String(error) } : { seq, end: how });
      },
    };
    runs.set(seq, {
      close: () => {
        closeAll();
        ctx.end('returned');
      },
      cancel: () => {
        ended = true;
        closeAll();
      },
    });
    Promise.resolve()
      .then(() => run(ctx))
      .catch((error) => ctx.end('raised', error?.message ?? String(error)));
  }

  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (message.cmd === 'start') {
      send({ ready: true, protocol: 1, implementation: { name, version, language: 'javascript', capabilities } });
    } else if (message.cmd === 'run') {
      start(message);
    } else if (message.cmd === 'close') {
      runs.get(message.seq)?.close();
    } else if (message.cmd === 'cancel') {
      runs.get(message.seq)?.cancel();
      runs.delete(message.seq);
      send({ seq: message.seq, cancelled: true, lingering: false });
    } else if (message.cmd === 'stop') {
      process.stdout.write('', () => process.exit(0));
    }
  });
  lines.on('close', () => process.exit(0));
}
