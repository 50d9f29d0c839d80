// eventsource-parser (npm) behind the persistent adapter protocol:
//   node eventsource_parser.mjs NODE_DIR [ALIAS]
// Its README: createParser({ onEvent }) and parser.feed(chunk) over a fetch() body decoded with
// TextDecoderStream. A decoder only: one request, no reconnection; a non-2xx status raises.
// Older majors (v1, v2) take one onParse callback instead ({type: 'event', ...}); 4.1+ also
// reports the id of a block without data through onId, the only way it shows one. The adapter
// uses what the installed version offers, so a validation run can install any release.
import { load, packageVersion } from './_emit.mjs';
import { serve } from './_protocol.mjs';

const [dir, alias = 'eventsource-parser'] = process.argv.slice(2);
const { createParser } = await load(dir, alias);
const version = packageVersion(dir, alias);
const major = Number.parseInt(version, 10);

// the parser for one stream: onEvent(event) for each message, onComment(text) where supported
function parserFor(onEvent, onComment, onId) {
  if (major < 3) {
    return createParser((parsed) => {
      if (parsed.type === 'event') onEvent(parsed);
    });
  }
  return createParser({ onEvent, onComment, onId });
}

serve({
  name: 'eventsource-parser',
  version,
  capabilities: ['post', 'headers', 'close'],
  async run(ctx) {
    const abort = new AbortController();
    ctx.onClose(() => abort.abort());
    const { method, headers, body } = ctx.inputs;
    const response = await fetch(ctx.url, { method: method ?? 'GET', headers, body, signal: abort.signal });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    let lastEventId = '';
    const parser = parserFor(
      (event) => {
        if (event.id !== undefined) lastEventId = event.id;
        ctx.event(event.event || 'message', event.data, lastEventId);
      },
      (comment) => ctx.comment(comment),
      (id) => {
        lastEventId = id;
      },
    );
    try {
      for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) parser.feed(chunk);
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
    ctx.end('returned');
  },
});
