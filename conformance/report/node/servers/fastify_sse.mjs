// fastify with the @fastify/sse plugin, as its README shows: a route with { sse: 'only' } and
// reply.sse.send({ id, event, data }) per event. Strings are sent as they are (serializer: String).
//   node fastify_sse.mjs NODE_DIR
import { load } from '../_emit.mjs';
import { after, announce, content, interval, sleep } from './_content.mjs';

const dir = process.argv[2];
const { default: Fastify } = await load(dir, 'fastify');
const { default: sse } = await load(dir, '@fastify/sse');
const app = Fastify();
await app.register(sse, { serializer: (data) => String(data) });

async function stream(reply, items) {
  for (const item of items) {
    await sleep(interval);
    await reply.sse.send(item);
  }
}

app.get('/events', { sse: 'only' }, (request, reply) => stream(reply, after(request.headers['last-event-id'])));
const openai = (request, reply) => stream(reply, content.openai.map((data) => ({ data })));
app.get('/openai', { sse: 'only' }, openai);
app.post('/openai', { sse: 'only' }, openai);
await app.listen({ port: 0, host: '127.0.0.1' });
announce(app.server.address().port);
