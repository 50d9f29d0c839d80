// hono, as its docs show: streamSSE(c, async (stream) => stream.writeSSE({ id, event, data }))
// from hono/streaming, served by @hono/node-server.
//   node hono.mjs NODE_DIR
import { load } from '../_emit.mjs';
import { after, announce, content, interval, sleep } from './_content.mjs';

const dir = process.argv[2];
const { Hono } = await load(dir, 'hono');
const { streamSSE } = await load(dir, 'hono/streaming');
const { serve } = await load(dir, '@hono/node-server');
const app = new Hono();

const stream = (c, items) =>
  streamSSE(c, async (sse) => {
    for (const item of items) {
      await sleep(interval);
      await sse.writeSSE(item);
    }
  });

app.get('/events', (c) => stream(c, after(c.req.header('Last-Event-ID'))));
app.on(['GET', 'POST'], '/openai', (c) => stream(c, content.openai.map((data) => ({ data }))));
serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => announce(info.port));
