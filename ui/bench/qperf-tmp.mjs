import { push } from '../tests/helpers.mjs';
import { readFileSync } from 'node:fs';
const pid = process.argv[4];
const ticks = () => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
const base = process.argv[2];
const N = 1_000_000;
const APPS = ['web', 'api', 'worker', 'cron', 'auth', 'billing', 'search', 'mail'];
const LEVELS = ['info', 'info', 'info', 'info', 'warn', 'error', 'debug'];
const now = Date.now();
if (process.argv[3] === 'push') {
  for (let i = 0; i < N; i += 20000) {
    const byApp = new Map();
    for (let j = i; j < Math.min(N, i + 20000); j++) {
      const app = APPS[j % APPS.length];
      const ts = now - 24 * 3600e3 + Math.floor((j / N) * 24 * 3600e3);
      const lvl = LEVELS[(j * 7) % LEVELS.length];
      const key = `${app}|${j % 2 ? 'web' : 'worker'}`;
      if (!byApp.has(key)) byApp.set(key, []);
      byApp.get(key).push([ts, `level=${lvl} msg="handled request" path=/items/${j % 977} status=${lvl === 'error' ? 500 : 200} ms=${j % 300}`]);
    }
    await push(base, [...byApp].map(([k, lines]) => ({ labels: { job: 'dokku', app: k.split('|')[0], process_type: k.split('|')[1] }, lines })));
  }
  await fetch(`${base}/flush`, { method: 'POST' });
}
const qs = [
  ['range', 'sum by (app) (count_over_time({job="dokku"} [5m]))'],
  ['range', 'sum by (app) (count_over_time({job="dokku"} |= "level=error" [5m]))'],
  ['instant', 'sum(count_over_time({job="dokku"} [24h]))'],
  ['instant', 'sum by (app) (bytes_over_time({job="dokku"} [24h]))'],
];
for (const [kind, q] of qs) {
  const p = new URLSearchParams({ query: q, start: `${now - 24 * 3600e3}000000`, end: `${now}000000`, step: '300', time: `${now}000000` });
  const t = performance.now(); const c0 = ticks();
  const r = await fetch(`${base}/loki/api/v1/${kind === 'range' ? 'query_range' : 'query'}?${p}`);
  const j = await r.json();
  console.log(`${(performance.now() - t).toFixed(0)} ms wall ${(ticks() - c0) * 10} ms cpu  ${j.data?.stats?.summary?.totalLinesProcessed ?? '?'} lines  ${q}`);
}
