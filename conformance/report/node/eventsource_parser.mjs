// eventsource-parser (npm) behind the persistent adapter protocol:
//   node eventsource_parser.mjs NODE_DIR
// Its README: createParser({ onEvent }) and parser.feed(chunk) over a fetch() body decoded with
// TextDecoderStream. A decoder only: one request, no reconnection; a non-2xx status raises.
import { load, packageVersion } from './_emit.mjs';
import { serve } from './_protocol.mjs';

const [dir] = process.argv.slice(2);
const { createParser } = await load(dir, 'eventsource-parser');

serve({
  name: 'eventsource-parser',
  version: packageVersion(dir, 'eventsource-parser'),
  capabilities: ['post', 'headers', 'close'],
  async run(ctx) {
    const abort = new AbortController();
    ctx.onClose(() => abort.abort());
    const { method, headers, body } = ctx.inputs;
    const response = await fetch(ctx.url, { method: method ?? 'GET', headers, body, signal: abort.signal });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    let lastEventId = '';
    const parser = createParser({
      onEvent(event) {
        if (event.id !== undefined) lastEventId = event.id;
        ctx.event(event.event || 'message', event.data, lastEventId);
      },
      onComment: (comment) => ctx.comment(comment),
    });
    try {
      for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) parser.feed(chunk);
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
    ctx.end('returned');
  },
});
