// The built UI (ui/dist, as the binary embeds it) stays within the first-load budget:
// at most 300 KB of gzipped JavaScript for the heaviest page (Explore: entry + lazy chunk).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { repoRoot } from './helpers.mjs';

it('first-load JavaScript is at most 300 KB gzipped', () => {
  const dist = join(repoRoot, 'ui/dist');
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  assert.doesNotMatch(html, /bitacora-ui-placeholder/, 'ui/dist holds the placeholder page: the UI was not built');
  assert.match(html, /<link rel="icon" href="data:,"/);
  const js = readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.js'));
  assert.ok(js.length >= 2, `expected an entry and a lazy explore chunk, got ${js}`);
  const total = js.reduce((n, f) => n + gzipSync(readFileSync(join(dist, 'assets', f))).length, 0);
  console.log(`gzipped JS: ${(total / 1024).toFixed(1)} KB in ${js.length} files`);
  assert.ok(total <= 300 * 1024, `gzipped JS is ${(total / 1024).toFixed(1)} KB`);
});
