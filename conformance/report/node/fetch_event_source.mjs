// @microsoft/fetch-event-source behind the persistent adapter protocol:
//   node fetch_event_source.mjs NODE_DIR
// Browser-first, so Node needs `window`/`document` shims and `fetch: globalThis.fetch`; otherwise
// the call is its README's: fetchEventSource(url, { onmessage }). Library defaults are kept.
import { load, packageVersion } from './_emit.mjs';
import { serve } from './_protocol.mjs';

globalThis.window = globalThis;
globalThis.document = { hidden: false, addEventListener() {}, removeEventListener() {} };

const [dir] = process.argv.slice(2);
const { fetchEventSource } = await load(dir, '@microsoft/fetch-event-source');

serve({
  name: '@microsoft/fetch-event-source',
  version: packageVersion(dir, '@microsoft/fetch-event-source'),
  capabilities: ['post', 'headers', 'close'],
  async run(ctx) {
    const abort = new AbortController();
    ctx.onClose(() => abort.abort());
    const { method, headers, body } = ctx.inputs;
    try {
      await fetchEventSource(ctx.url, {
        method: method ?? 'GET',
        headers: headers ?? {},
        body,
        fetch: globalThis.fetch,
        openWhenHidden: true,
        signal: abort.signal,
        onmessage: (message) => ctx.event(message.event || 'message', message.data, message.id),
      });
      ctx.end('returned');
    } catch (error) {
      ctx.end('raised', String(error));
    }
  },
});
