// What every third-party server app streams (../../servers/content.json, shared with the Python
// apps) and how a Node server announces itself to the report: `LISTENING <url>` on stdout.
import { readFileSync } from 'node:fs';

const file = new URL('../../servers/content.json', import.meta.url);
export const content = JSON.parse(readFileSync(file, 'utf8'));
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const interval = content.interval * 1000;

// Resume support (S-19): the events after lastEventId, or all of them.
export function after(lastEventId) {
  const index = content.events.findIndex((item) => item.id === lastEventId);
  return index >= 0 ? content.events.slice(index + 1) : content.events;
}

// The tutorial pattern: event/id lines, then `data: ${x}` with the data not split on line breaks.
export function handRolled({ data, event, id }) {
  return `${event ? `event: ${event}\n` : ''}${id ? `id: ${id}\n` : ''}data: ${data}\n\n`;
}

export function announce(port) {
  process.stdout.write(`LISTENING http://127.0.0.1:${port}\n`);
}
