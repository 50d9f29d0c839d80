// npm `eventsource` (any major, installed under an alias) behind the persistent adapter protocol:
//   node eventsource.mjs NODE_DIR ALIAS
// The EventSource API as its README shows. A page only hears the event types it listens for, so
// the adapter watches the one place every message passes (dispatchEvent for v3+, emit for the
// EventEmitter-based v2) and reports each one; parsing is untouched. A run returns when the
// stream ends with 204 (a clean stop) and raises when the connection fails otherwise. Its own
// open and error events are reported as notifications (capability notifications).
import { load, packageVersion } from './_emit.mjs';
import { serve } from './_protocol.mjs';

const [dir, alias] = process.argv.slice(2);
const mod = await load(dir, alias);
const EventSource = mod.EventSource ?? mod.default?.EventSource ?? mod.default;

function watch(source, seen) {
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
}

serve({
  name: `eventsource (npm ${alias})`,
  version: packageVersion(dir, alias),
  capabilities: ['reconnect', 'close', 'notifications'], // headers: v2 only (its entry declares it)
  run(ctx) {
    const headers = ctx.inputs.headers;
    const source = new EventSource(ctx.url, headers ? { headers } : undefined);
    ctx.onClose(() => source.close());
    watch(source, (event) => {
      if (event && typeof event.data === 'string' && event.type !== 'open' && event.type !== 'error') {
        ctx.event(event.type, event.data, event.lastEventId ?? '');
      }
    });
    // a message of type "open" or "error" reaches these handlers too: it carries data
    source.onopen = (event) => typeof event?.data !== 'string' && ctx.opened();
    source.onerror = (error) => {
      if (typeof error?.data === 'string') return;
      ctx.errored();
      // v2 emits the error of a failed connection (a 204, any other status) first and closes
      // after the handlers ran: look at readyState once they have, not inside
      queueMicrotask(() => {
        if (source.readyState !== 2) return; // reconnecting by itself
        const status = error?.code ?? error?.status;
        source.close();
        if (status === 204) ctx.end('returned');
        else ctx.end('raised', `connection failed: ${status ?? ''} ${error?.message ?? ''}`.trim());
      });
    };
  },
});
