// npm `eventsource` (any major, installed under an alias) as a command target:
//   node eventsource.mjs NODE_DIR ALIAS URL
// The EventSource API as its README shows. A page only hears the event types it listens for, so
// the adapter watches the one place every message passes (dispatchEvent for v3+, emit for the
// EventEmitter-based v2) and prints each one as a JSON line; parsing is untouched.
// Exit 0 when the stream ends with 204 (a clean stop), 1 when the connection fails otherwise.
import { emit, finish, load } from './_emit.mjs';

const [dir, alias, url] = process.argv.slice(2);
const mod = await load(dir, alias);
const EventSource = mod.EventSource ?? mod.default?.EventSource ?? mod.default;
const headers = process.env.SSE_HEADERS ? JSON.parse(process.env.SSE_HEADERS) : undefined;
const source = new EventSource(url, headers ? { headers } : undefined);
// Node exits when nothing is scheduled, and the reconnect timer may not count: stay alive like a
// page does, until the connection is closed for good (finish) or the runner stops this process.
const alive = setInterval(() => {}, 1 << 30);

const seen = (event) => {
  if (event && typeof event.data === 'string' && event.type !== 'open' && event.type !== 'error') {
    emit({ event: event.type, data: event.data, id: event.lastEventId ?? '' });
  }
};
if (typeof source.emit === 'function') {
  const original = source.emit.bind(source);
  const listeners = source.listeners.bind(source);
  source.listeners = (type) => (type === 'open' || type === 'error' ? listeners(type) : [seen]);
  source.emit = (type, event) => {
    seen(event);
    return listeners(type).length ? original(type, event) : true;
  };
} else {
  const original = source.dispatchEvent.bind(source);
  source.dispatchEvent = (event) => {
    seen(event);
    return original(event);
  };
}

source.onerror = (error) => {
  if (source.readyState !== 2) return; // reconnecting by itself
  const status = error?.code ?? error?.status;
  source.close();
  clearInterval(alive);
  finish(status === 204 ? 0 : 1, `connection failed: ${status ?? ''} ${error?.message ?? ''}`.trim());
};
