// One JSON event per line on stdout, flushed before exit (console.log + process.exit truncates pipes).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

export function finish(code, message) {
  if (message) process.stderr.write(message + '\n');
  process.stdout.write('', () => process.exit(code));
}

// Import package `name` from the node_modules folder `dir` (the report's private npm cache).
export async function load(dir, name) {
  const require = createRequire(join(dir, 'package.json'));
  let resolved;
  try {
    resolved = require.resolve(name);
  } catch {
    resolved = join(dir, 'node_modules', name, JSON.parse(
      (await import('node:fs')).readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')
    ).exports?.['.']?.default ?? 'index.js');
  }
  return import(pathToFileURL(resolved).href);
}
