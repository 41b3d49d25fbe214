// Run by hand (not a test): `node ui/bench/dashboards.mjs` after `npm run build` and
// `cargo build -p bitacora` (BITACORA_BIN picks another binary, LINES another volume).
// A 12-panel dashboard (time series, bar chart, stats, gauge, bar gauge, tables, logs) over 24 h of
// 1,000,000 pushed lines: the time from navigation to every panel drawn (each panel marks
// `data-state="done"` and a performance mark when drawn), measured in headless Chromium, and the
// server CPU it cost (utime+stime from /proc/<pid>/stat before and after).
import { readdirSync, readFileSync } from 'node:fs';
import { startServer, push, launch, newPage } from '../tests/helpers.mjs';

const N = Number(process.env.LINES ?? 1_000_000);
const RUNS = Number(process.env.RUNS ?? 5);
const APPS = ['web', 'api', 'worker', 'cron', 'auth', 'billing', 'search', 'mail'];
const LEVELS = ['info', 'info', 'info', 'info', 'warn', 'error', 'debug'];

const server = await startServer();
// The server's process: the one whose command line listens on its address.
const pid = Number(
  readdirSync('/proc').find((d) => {
    if (!/^\d+$/.test(d)) return false;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      return cmd[1] === 'server' && cmd.includes(new URL(server.base).host);
    } catch {
      return false;
    }
  }),
);
if (!pid) throw new Error('cannot find the server process');
const ticks = () => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100 per second)
};
const br = await launch();
try {
  const now = Date.now();
  const t0 = performance.now();
  const BATCH = 20000;
  for (let i = 0; i < N; i += BATCH) {
    const byApp = new Map();
    for (let j = i; j < Math.min(N, i + BATCH); j++) {
      const app = APPS[j % APPS.length];
      const ts = now - 24 * 3600e3 + Math.floor((j / N) * 24 * 3600e3);
      const lvl = LEVELS[(j + (j >> 3)) % LEVELS.length]; // a mix: about 1 line in 7 is an error
      const key = `${app}|${j % 2 ? 'web' : 'worker'}`;
      if (!byApp.has(key)) byApp.set(key, []);
      byApp.get(key).push([ts, `level=${lvl} msg="handled request" path=/items/${j % 977} status=${lvl === 'error' ? 500 : 200} ms=${j % 300}`]);
    }
    await push(server.base, [...byApp].map(([k, lines]) => ({ labels: { job: 'dokku', app: k.split('|')[0], process_type: k.split('|')[1] }, lines })));
  }
  console.log(`pushed ${N.toLocaleString('en')} lines over 24 h in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const base = server.base;
  const ds = { type: 'loki', uid: 'bitacora' };
  const p = (id, type, title, expr, x, y, w, h, extra = {}) => ({ id, type, title, datasource: ds, gridPos: { x, y, w, h }, targets: [{ refId: 'A', expr, ...(extra.target ?? {}) }], ...extra.panel });
  const instant = { target: { queryType: 'instant' } };
  const dashboard = {
    uid: 'bench-12',
    title: 'Bench: 12 panels over 24 h',
    time: { from: 'now-24h', to: 'now' },
    panels: [
      p(1, 'timeseries', 'Lines per app', 'sum by (app) (count_over_time({job="dokku"} [$__auto]))', 0, 0, 12, 8),
      p(2, 'timeseries', 'Errors per app', 'sum by (app) (count_over_time({job="dokku"} |= "level=error" [$__auto]))', 12, 0, 12, 8),
      p(3, 'stat', 'Lines', 'sum(count_over_time({job="dokku"} [$__range]))', 0, 8, 4, 4, instant),
      p(4, 'stat', 'Errors', 'sum(count_over_time({job="dokku"} |= "level=error" [$__range]))', 4, 8, 4, 4, instant),
      p(5, 'gauge', 'Error share', 'sum(count_over_time({job="dokku"} |= "level=error" [$__range])) / sum(count_over_time({job="dokku"} [$__range]))', 8, 8, 4, 4, { ...instant, panel: { fieldConfig: { defaults: { unit: 'percentunit', min: 0, max: 1 } } } }),
      p(6, 'bargauge', 'Lines by process type', 'sum by (process_type) (count_over_time({job="dokku"} [$__range]))', 12, 8, 12, 4, instant),
      p(7, 'barchart', 'Volume by app', 'sum by (app) (bytes_over_time({job="dokku"} [$__range]))', 0, 12, 8, 8, { ...instant, panel: { fieldConfig: { defaults: { unit: 'bytes' } } } }),
      p(8, 'table', 'Top apps by errors', 'topk(5, sum by (app) (count_over_time({job="dokku"} |= "level=error" [$__range])))', 8, 12, 8, 8, instant),
      p(9, 'timeseries', 'Lines by process type', 'sum by (process_type) (count_over_time({job="dokku"} [$__auto]))', 16, 12, 8, 8, { panel: { fieldConfig: { defaults: { custom: { stacking: { mode: 'normal' }, fillOpacity: 40 } } } } }),
      p(10, 'logs', 'Latest errors', '{job="dokku"} |= "level=error"', 0, 20, 12, 8, { target: { maxLines: 100 } }),
      p(11, 'table', 'Noisiest streams', 'topk(10, sum by (app, process_type) (count_over_time({job="dokku"} [$__range])))', 12, 20, 6, 8, instant),
      p(12, 'stat', 'Lines per second', 'sum(rate({job="dokku"} [$__range]))', 18, 20, 6, 8, { ...instant, panel: { fieldConfig: { defaults: { unit: 'reqps' } } } }),
    ],
  };
  const r = await fetch(`${base}/api/dashboards/db`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ dashboard, overwrite: true }) });
  if (!r.ok) throw new Error(`import failed: ${r.status} ${await r.text()}`);
  const { page, problems } = await newPage(br.browser, { viewport: { width: 1600, height: 1200 } });
  const times = [];
  for (let run = 0; run <= RUNS; run++) {
    await page.goto(`${base}/dashboards`);
    await page.waitForLoadState('networkidle');
    const before = ticks();
    // Client-side navigation, as a click on the list does; the page measures from that moment.
    const ms = await page.evaluate(async () => {
      const start = performance.now();
      history.pushState(null, '', '/d/bench-12/bench?from=now-24h&to=now');
      dispatchEvent(new PopStateEvent('popstate'));
      for (;;) {
        const ps = [...document.querySelectorAll('[data-testid=panel]')];
        if (ps.length === 12 && ps.every((p) => p.dataset.state === 'done' || p.dataset.state === 'error')) {
          if (ps.some((p) => p.dataset.state === 'error')) throw new Error('a panel failed');
          return performance.now() - start;
        }
        await new Promise((r) => requestAnimationFrame(r));
      }
    });
    const cpu = (ticks() - before) / 100;
    if (run > 0) times.push({ ms, cpu }); // the first run warms the server's caches and the JIT
    console.log(`run ${run}: every panel drawn ${ms.toFixed(0)} ms after navigation; server CPU ${cpu.toFixed(2)} s${run === 0 ? ' (warm-up, not counted)' : ''}`);
  }
  const sorted = times.map((t) => t.ms).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const cpu = times.reduce((a, t) => a + t.cpu, 0) / times.length;
  console.log(`median ${median.toFixed(0)} ms (goal ≤ 1000 ms), worst ${sorted.at(-1).toFixed(0)} ms; server CPU per load ${cpu.toFixed(2)} s`);
  if (problems.length) console.log('page problems:', problems);
} finally {
  await br.close();
  await server.stop();
}
