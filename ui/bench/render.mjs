// Run by hand (not a test): `node ui/bench/render.mjs` after `npm run build` and `cargo build -p bitacora`.
// 1. The gzipped size of the JavaScript a first load fetches (/apps: the entry; /explore: the entry
//    plus the lazily loaded explore chunk), from ui/dist.
// 2. The time from a 5,000-line query_range response arriving in the page to those rows being
//    rendered (two animation frames after the list is set), measured by the page itself
//    (window.__bitacoraRender) in headless Chromium against a real server.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { startServer, push, launch, newPage, repoRoot, exploreUrl } from '../tests/helpers.mjs';

const dist = join(repoRoot, 'ui/dist');
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const entry = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
const gz = (f) => gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
const all = readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.js')).map((f) => `assets/${f}`);
const lazy = all.filter((f) => !entry.includes(f));
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const entryGz = entry.reduce((n, f) => n + gz(f), 0);
const lazyGz = lazy.reduce((n, f) => n + gz(f), 0);
console.log(`first-load JS, /apps:    ${entry.join(', ')} = ${kb(entryGz)} gzipped`);
console.log(`first-load JS, /explore: + ${lazy.join(', ')} = ${kb(entryGz + lazyGz)} gzipped (budget 300 KB)`);

const server = await startServer();
const br = await launch();
try {
  const now = Date.now();
  const N = 5000;
  const words = ['GET', 'POST', 'checkout', 'payment', 'user', 'session', 'cache', 'db', 'timeout', 'retry'];
  const lines = Array.from({ length: N }, (_, i) => {
    const lvl = ['info', 'info', 'info', 'warn', 'error', 'debug'][i % 6];
    return [now - (N - i) * 500, i % 3 === 0 ? JSON.stringify({ level: lvl, msg: `${words[i % 10]} request ${i}`, path: `/api/v1/items/${i}`, ms: i % 997 }) : `level=${lvl} msg="${words[i % 10]} ${words[(i * 7) % 10]} done" id=${i} took=${i % 300}ms \x1b[32mok\x1b[0m`];
  });
  for (let i = 0; i < N; i += 1000) await push(server.base, [{ labels: { app: 'bench', process_type: 'web' }, lines: lines.slice(i, i + 1000) }]);
  const { page } = await newPage(br.browser);
  for (const wrap of [false, true]) {
    await page.goto(server.base + '/apps');
    await page.evaluate((w) => localStorage.setItem('bitacora.wrap', w ? '1' : '0'), wrap);
    const times = [];
    for (let run = 0; run < 6; run++) {
      await page.goto(exploreUrl(server.base, { query: '{app="bench"} |~ "took|ms"', from: 'now-1h', to: 'now', limit: '5000' }));
      const r = await page.waitForFunction(() => window.__bitacoraRender, null, { timeout: 30000 }).then((h) => h.jsonValue());
      if (r.rows !== N) throw new Error(`expected ${N} rows, got ${r.rows}`);
      if (run > 0) times.push(r.ms); // the first run warms the JIT and caches
    }
    times.sort((a, b) => a - b);
    console.log(`render of ${N} lines (wrap ${wrap ? 'on' : 'off'}) after the response arrived: median ${times[times.length >> 1].toFixed(0)} ms, min ${times[0].toFixed(0)} ms, max ${times.at(-1).toFixed(0)} ms (budget 200 ms)`);
  }
  // Scrolling to the bottom of the virtualised list keeps the DOM small.
  const domRows = await page.evaluate(() => document.querySelectorAll('[data-testid=log-row]').length);
  console.log(`rows in the DOM for ${N} lines: ${domRows}`);
} finally {
  await br.close();
  await server.stop();
}
