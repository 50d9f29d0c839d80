// express, the usual tutorial: res.writeHead(200, text/event-stream) then res.write() per event.
//   node express.mjs NODE_DIR
import { load } from '../_emit.mjs';
import { after, announce, content, handRolled, interval, sleep } from './_content.mjs';

const { default: express } = await load(process.argv[2], 'express');
const app = express();

async function stream(res, items) {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  res.flushHeaders();
  for (const item of items) {
    await sleep(interval);
    res.write(handRolled(item));
  }
  res.end();
}

app.get('/events', (req, res) => stream(res, after(req.get('Last-Event-ID'))));
app.all('/openai', (req, res) => stream(res, content.openai.map((data) => ({ data }))));
const server = app.listen(0, '127.0.0.1', () => announce(server.address().port));
