// Loading npm packages from the report's private node_modules folder.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// Import package `name` from the node_modules folder `dir` (the report's private npm cache).
export async function load(dir, name) {
  const require = createRequire(join(dir, 'package.json'));
  let resolved;
  try {
    resolved = require.resolve(name);
  } catch {
    const manifest = JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8'));
    resolved = join(dir, 'node_modules', name, manifest.exports?.['.']?.default ?? 'index.js');
  }
  return import(pathToFileURL(resolved).href);
}

export function packageVersion(dir, name) {
  try {
    return JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')).version ?? '';
  } catch {
    return '';
  }
}
