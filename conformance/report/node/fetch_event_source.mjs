// @microsoft/fetch-event-source as a command target:  node fetch_event_source.mjs NODE_DIR URL
// Browser-first, so Node needs `window`/`document` shims and `fetch: globalThis.fetch`; otherwise
// the call is its README's: fetchEventSource(url, { onmessage }). Library defaults are kept.
import { emit, finish, load } from './_emit.mjs';

globalThis.window = globalThis;
globalThis.document = { hidden: false, addEventListener() {}, removeEventListener() {} };

const [dir, url] = process.argv.slice(2);
const { fetchEventSource } = await load(dir, '@microsoft/fetch-event-source');
const env = process.env;

try {
  await fetchEventSource(url, {
    method: env.SSE_METHOD ?? 'GET',
    headers: env.SSE_HEADERS ? JSON.parse(env.SSE_HEADERS) : {},
    body: env.SSE_BODY,
    fetch: globalThis.fetch,
    openWhenHidden: true,
    onmessage: (message) => emit({ event: message.event || 'message', data: message.data, id: message.id }),
  });
  finish(0);
} catch (error) {
  finish(1, String(error));
}
