// eventsource-client (npm) behind the persistent adapter protocol:
//   node eventsource_client.mjs NODE_DIR
// Its README's async iterator: for await (const {data, event, id} of createEventSource({url})).
// It reconnects by itself and never gives up, so a run ends only when the suite closes or
// cancels it (a clean stop on 204 is reported when the library says the source closed).
import { load, packageVersion } from './_emit.mjs';
import { serve } from './_protocol.mjs';

const [dir] = process.argv.slice(2);
const { createEventSource } = await load(dir, 'eventsource-client');

serve({
  name: 'eventsource-client',
  version: packageVersion(dir, 'eventsource-client'),
  capabilities: ['reconnect', 'post', 'headers', 'close'],
  async run(ctx) {
    const { method, headers, body } = ctx.inputs;
    const source = createEventSource({ url: ctx.url, method, headers, body, onConnect: () => ctx.opened() });
    ctx.onClose(() => source.close());
    for await (const { data, event, id } of source) {
      ctx.event(event || 'message', data, id ?? source.lastEventId ?? '');
    }
    ctx.end('returned');
  },
});
