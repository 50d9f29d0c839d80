// A small Node client for benchmarking the persistent protocol: fetch() plus eventsource-parser,
// one connection, no reconnection. Raises on a non-200 status or another type, like EventSource
// fails the connection.   node node_fetch_parser.mjs NODE_DIR
import { load, packageVersion } from '../conformance/report/node/_emit.mjs';
import { serve } from '../conformance/report/node/_protocol.mjs';

const [dir] = process.argv.slice(2);
const { createParser } = await load(dir, 'eventsource-parser');

serve({
  name: 'fetch + eventsource-parser',
  version: packageVersion(dir, 'eventsource-parser'),
  capabilities: ['post', 'headers', 'close'],
  async run(ctx) {
    const abort = new AbortController();
    ctx.onClose(() => abort.abort());
    const { method, headers, body } = ctx.inputs;
    const response = await fetch(ctx.url, { method: method ?? 'GET', headers, body, signal: abort.signal });
    const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (response.status !== 200 || type !== 'text/event-stream') {
      throw new Error(`status ${response.status}, type ${type}`);
    }
    let lastId = '';
    const parser = createParser({
      onEvent(event) {
        if (event.id !== undefined) lastId = event.id;
        ctx.event(event.event || 'message', event.data, lastId);
      },
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
    ctx.end('returned');
  },
});
