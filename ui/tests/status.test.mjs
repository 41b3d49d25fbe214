// The status page in a real browser against a real `bitacora run` (store, API and agent) reading a
// real Docker engine: lines pushed and read from containers, a container whose lines the store
// refuses (dropped, highlighted), a bad configuration reloaded with SIGHUP (an error in the
// server's own log), and a real full disk (a small tmpfs) for the DISK FULL banner. Every number
// on the page is checked against the /api/status answer the page rendered.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync, openSync, writeSync, closeSync, fsyncSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { repoRoot, shotDir, push, apiQuery, launch, newPage, startServer } from './helpers.mjs';

const IMAGE = 'bitacora-test:busybox';
/** The whole page (the phone's is long), into ui/test-results. */
const shot = (page, name) => page.screenshot({ path: join(shotDir, `${name}.png`), fullPage: true });
const CI = process.env.CI === 'true';

/** Docker must be there in CI; elsewhere the test says why it cannot run. */
function dockerReady() {
  const ok = spawnSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' }).status === 0;
  if (!ok) {
    assert.ok(!CI, `CI needs Docker with ${IMAGE}: run scripts/docker-setup.sh first`);
    console.log(`SKIPPED: no Docker engine with ${IMAGE}; run scripts/docker-setup.sh`);
  }
  return ok;
}

/** Root mounts the tmpfs of the full-disk test; CI runs as root. */
function rootReady() {
  const ok = process.getuid?.() === 0;
  if (!ok) {
    assert.ok(!CI, 'CI runs as root: the full-disk test mounts a tmpfs');
    console.log('SKIPPED: needs root to mount a small tmpfs');
  }
  return ok;
}

function docker(args) {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** `bitacora <mode> --config F` in `dir`, resolved when /ready answers. */
async function startBitacora(mode, dir, config, env = {}) {
  const bin = resolve(repoRoot, process.env.BITACORA_BIN ?? 'target/debug/bitacora');
  if (!existsSync(bin)) throw new Error(`bitacora binary not found at ${bin}: run cargo build -p bitacora or set BITACORA_BIN`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const cfg = join(dir, 'bitacora.yaml');
  writeFileSync(cfg, config);
  const proc = spawn(bin, [mode, '--config', cfg, '--listen', `127.0.0.1:${port}`, '--data-dir', join(dir, 'data')], {
    env: { ...process.env, BITACORA_LIMITS__INGESTION_RATE_MB: '0', RUST_LOG: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const exited = new Promise((r) => proc.on('exit', r));
  const deadline = Date.now() + 20000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`bitacora exited with ${proc.exitCode}:\n${log}`);
    try {
      if ((await fetch(`${base}/ready`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`bitacora did not become ready on ${base}:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    cfg,
    pid: proc.pid,
    log: () => log,
    async stop() {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

const status = async (base) => {
  const r = await fetch(`${base}/api/status`);
  assert.equal(r.status, 200);
  return r.json();
};

/** Polls /api/status until `pred` holds (at most `ms`). */
async function waitStatus(base, what, pred, ms = 20000) {
  const deadline = Date.now() + ms;
  let s;
  for (;;) {
    s = await status(base);
    if (pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}; /api/status: ${JSON.stringify(s, null, 1)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const UNIT = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };
/** The number shown (`1,204`, `7.3`, `12.5 KiB`, `356 B/s`) is `exact` rounded to the digits shown. */
function shownAs(text, exact, what) {
  const m = /([\d,]+)(?:\.(\d+))?(?: (B|KiB|MiB|GiB|TiB))?/.exec(text);
  assert.ok(m, `${what}: "${text}" is not a number`);
  const shown = Number(`${m[1].replace(/,/g, '')}.${m[2] ?? '0'}`);
  const want = exact / (m[3] ? UNIT[m[3]] : 1);
  const half = 0.5 * 10 ** -(m[2]?.length ?? 0);
  assert.ok(Math.abs(shown - want) <= half + 1e-9, `${what}: shown "${text}", /api/status ${exact}`);
  if (m[3] && m[3] !== 'B') assert.ok(want >= 1 && want < 1024, `${what}: "${text}" is not in the right unit for ${exact}`);
}

/** Opens /status and returns the /api/status answer the page rendered. */
async function openStatus(page, base) {
  const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/status');
  await page.goto(`${base}/status`);
  const s = await (await answer).json();
  await page.getByTestId('lines-total').waitFor({ state: 'attached' });
  // The first answer is rendered (the next arrives 5 s later).
  await page.waitForFunction((n) => document.querySelector('[data-testid=lines-total]')?.dataset.value === String(n), s.ingest.lines_total);
  return s;
}

const tag = `bst-${process.pid}`;
const OK_LINES = 40;
const LONG_LINES = 5;
const PUSHED = 120;
let srv, br, tmp, docker_ok;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'bitacora-status-test-'));
  br = await launch();
  docker_ok = dockerReady();
  // Lines over 200 bytes are refused: the agent drops them and logs an error.
  srv = await startBitacora(docker_ok ? 'run' : 'server', tmp, 'store:\n  retention_period: 7d\nlimits:\n  max_line_size: 200\n', {
    BITACORA_AGENT__INCLUDE_CONTAINERS: `${tag}-.*`,
    BITACORA_AGENT__POLL_INTERVAL: '50ms',
  });
  const now = Date.now();
  await push(srv.base, [{ labels: { app: 'shop', stream: 'stdout' }, lines: Array.from({ length: PUSHED }, (_, i) => [now - (PUSHED - i) * 100, `level=info msg="order ${i}"`]) }]);
  if (docker_ok) {
    docker(['run', '-d', '--name', `${tag}-ok`, '--label', 'com.dokku.app-name=demo', '--label', 'com.dokku.process-type=web', IMAGE, 'sh', '-c', `i=0; while [ $i -lt ${OK_LINES} ]; do echo "served request $i"; i=$((i+1)); done`]);
    await waitStatus(srv.base, `${OK_LINES} lines sent from ${tag}-ok`, (s) => s.targets.find((t) => t.container === `${tag}-ok`)?.lines_sent === OK_LINES);
    // Started once the first container's lines are in, so its batches hold only refused lines.
    docker(['run', '-d', '--name', `${tag}-long`, IMAGE, 'sh', '-c', `i=0; while [ $i -lt ${LONG_LINES} ]; do printf "too long %0300d\\n" $i; i=$((i+1)); done`]);
    await waitStatus(srv.base, `${LONG_LINES} lines dropped from ${tag}-long`, (s) => s.targets.find((t) => t.container === `${tag}-long`)?.lines_dropped === LONG_LINES);
  }
  // A bad configuration file, reloaded: refused, and logged as an error.
  writeFileSync(srv.cfg, 'store:\n  retention_period: soon\n');
  process.kill(srv.pid, 'SIGHUP');
  await waitStatus(srv.base, 'the refused reload among the problems', (s) => s.problems.some((p) => p.line.includes('configuration reload refused')));
  // The self log reaches the store within a second or two.
  const deadline = Date.now() + 15000;
  for (;;) {
    const r = await apiQuery(srv.base, '/loki/api/v1/query_range', { query: '{app="bitacora"} |= "configuration reload refused"', start: `${now - 60000}000000`, end: `${Date.now() + 1000}000000` });
    if (r.data.result.length > 0) break;
    assert.ok(Date.now() < deadline, 'the refused reload did not reach {app="bitacora"}');
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  if (docker_ok) spawnSync('docker', ['rm', '-f', `${tag}-ok`, `${tag}-long`], { stdio: 'ignore' });
  await br?.close();
  await srv?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('status', () => {
  it('reports every agent target with all its counters, zeros included', async (t) => {
    if (!docker_ok) return t.skip('no Docker');
    const s = await status(srv.base);
    const keys = ['bytes_dropped', 'bytes_read', 'bytes_sent', 'container', 'files_lost', 'lag_bytes', 'lines_dropped', 'lines_read', 'lines_sent'];
    assert.deepEqual(s.targets.map((t) => t.container), [`${tag}-long`, `${tag}-ok`]);
    for (const t of s.targets) assert.deepEqual(Object.keys(t).sort(), keys, t.container);
    const ok = s.targets.find((t) => t.container === `${tag}-ok`);
    assert.equal(ok.lines_read, OK_LINES);
    assert.equal(ok.lines_dropped, 0);
    const long = s.targets.find((t) => t.container === `${tag}-long`);
    assert.equal(long.lines_sent, 0);
    assert.equal(long.lines_read, LONG_LINES);
  });

  it('shows the numbers of /api/status: ingest, disk, retention, files, streams, targets, problems', async () => {
    const { page, problems } = await newPage(br.browser);
    const s = await openStatus(page, srv.base);
    const el = (id) => page.getByTestId(id);
    const value = async (id) => el(id).getAttribute('data-value');

    // Ingest: what was pushed and read is counted, and shown.
    assert.ok(s.ingest.lines_total >= PUSHED + (docker_ok ? OK_LINES : 0), `lines_total ${s.ingest.lines_total}`);
    assert.equal(await value('lines-total'), String(s.ingest.lines_total));
    assert.match(await page.locator('.st-stat').first().innerText(), new RegExp(`${s.ingest.lines_total.toLocaleString('en')} lines since start`));
    shownAs(await el('lines-per-second').innerText(), s.ingest.lines_per_second, 'lines/s');
    shownAs(await el('bytes-per-second').innerText(), s.ingest.bytes_per_second, 'bytes/s');
    assert.match(await el('bytes-per-second').innerText(), /\/s$/);

    // Disk: Bitácora's files, free and total, and the bar's share.
    const used = s.disk.segment_bytes + s.disk.wal_bytes;
    assert.ok(s.disk.wal_bytes > 0, 'the pushed lines are in the WAL');
    assert.equal(await value('disk-used'), String(used));
    shownAs(await el('disk-used').innerText(), used, 'disk used');
    shownAs(await el('free').innerText(), s.disk.free_bytes, 'free');
    shownAs((await el('disk-total').innerText()).replace(/^of /, ''), s.disk.total_bytes, 'total');
    const pct = Math.round((100 * (s.disk.total_bytes - s.disk.free_bytes)) / s.disk.total_bytes);
    assert.equal(await el('disk-bar').getAttribute('aria-valuenow'), String(pct));
    assert.equal(await el('disk-full').count(), 0, 'no DISK FULL banner while there is room');

    // Retention: 7 days of retention_period on a roomy disk at this small rate.
    assert.equal(s.retention.limited_by, 'retention_period');
    assert.equal(s.retention.horizon_seconds, 7 * 86400);
    assert.equal(await el('horizon').innerText(), '≈ 7 days');
    assert.equal(await el('limited-by').innerText(), 'limited by store.retention_period (7 days)');

    // Files and streams.
    assert.equal(await value('segments'), String(s.disk.segments));
    assert.equal(await el('segments').innerText(), s.disk.segments.toLocaleString('en'));
    assert.equal(await value('wal-files'), String(s.disk.wal_files));
    assert.equal(await el('wal-files').innerText(), String(s.disk.wal_files));
    shownAs(await el('wal-bytes').innerText(), s.disk.wal_bytes, 'WAL bytes');
    assert.equal(await el('open-files').innerText(), String(s.disk.open_segment_files));
    assert.equal(await el('streams').innerText(), `${s.streams.active} / ${s.streams.total}`);
    // Every stream, as the series API counts them: shop, the self log's, demo's, and the Docker
    // event streams of both containers (the refused container has no log stream).
    const series = await apiQuery(srv.base, '/loki/api/v1/series', [['match[]', '{app=~".+"}'], ['match[]', '{source="docker"}'], ['start', `${Date.now() - 3600e3}000000`], ['end', `${Date.now() + 1000}000000`]]);
    assert.equal(s.streams.total, series.data.length, JSON.stringify(series.data));
    assert.equal(s.streams.total, docker_ok ? 5 : 2);

    // Targets: one row each, the counters of /api/status, the refused container highlighted.
    if (docker_ok) {
      const rows = el('target');
      assert.equal(await rows.count(), s.targets.length);
      for (const t of s.targets) {
        const row = page.locator(`[data-testid=target][data-container="${t.container}"]`);
        for (const k of ['lines_read', 'lines_sent', 'lines_dropped', 'files_lost']) assert.equal(await row.locator(`[data-key=${k}]`).innerText(), t[k].toLocaleString('en'), `${t.container} ${k}`);
        shownAs(await row.locator('[data-key=lag_bytes]').innerText(), t.lag_bytes, `${t.container} lag`);
      }
      const bad = page.locator(`[data-testid=target][data-container="${tag}-long"]`);
      const good = page.locator(`[data-testid=target][data-container="${tag}-ok"]`);
      assert.equal(await bad.getAttribute('data-state'), 'bad');
      assert.equal(await good.getAttribute('data-state'), 'ok');
      const bg = (l) => l.locator('td').nth(1).evaluate((e) => getComputedStyle(e).backgroundColor);
      assert.notEqual(await bg(bad), await bg(good), 'the row with dropped lines is highlighted');
    } else {
      await el('no-targets').waitFor();
    }

    // Problems: every one, newest first, level-coloured.
    const items = el('problem');
    assert.equal(await items.count(), s.problems.length);
    const want = [...s.problems].sort((a, b) => Number(BigInt(b.ts) - BigInt(a.ts))).map((p) => p.line.replace(/^level=\w+ /, ''));
    assert.deepEqual(await el('problem-line').allTextContents(), want);
    const reload = items.filter({ hasText: 'configuration reload refused' });
    assert.equal(await reload.count(), 1);
    assert.equal(await reload.getAttribute('data-level'), 'error');
    assert.match(await reload.innerText(), /store\.retention_period: not a valid duration/);
    if (docker_ok) assert.ok((await items.filter({ hasText: 'the receiver refused a batch' }).count()) >= 1, 'the dropped batch is a problem');
    const [lvlColour, errText] = await reload.locator('.st-lvl').evaluate((e) => [getComputedStyle(e).color, getComputedStyle(document.documentElement).getPropertyValue('--err-text')]);
    const probe = await page.evaluate((c) => {
      const d = document.createElement('span');
      d.style.color = c;
      document.body.append(d);
      const v = getComputedStyle(d).color;
      d.remove();
      return v;
    }, errText.trim());
    assert.equal(lvlColour, probe, 'an error is in the error colour');

    // Keyboard: from a problem's time link, Tab reaches its "more" button; Enter shows the whole line.
    if (docker_ok) {
      const idx = await items.evaluateAll((els) => els.findIndex((e) => e.querySelector('button')?.textContent === 'more'));
      assert.ok(idx >= 0, 'a long problem line has a "more" button');
      const row = items.nth(idx);
      const line = row.getByTestId('problem-line');
      const before = await line.evaluate((e) => e.getBoundingClientRect().height);
      await row.getByTestId('problem-link').focus();
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'more');
      await page.keyboard.press('Enter');
      await row.getByRole('button', { name: 'less' }).waitFor();
      assert.equal(await row.getByRole('button', { name: 'less' }).getAttribute('aria-expanded'), 'true');
      const after = await line.evaluate((e) => [e.getBoundingClientRect().height, e.scrollHeight]);
      assert.ok(after[0] > before && after[0] >= after[1] - 1, `expanded from ${before} px to ${after}`);
      // A refresh keeps it open (rows are keyed by their problem).
      await page.waitForResponse((r) => new URL(r.url()).pathname === '/api/status', { timeout: 8000 });
      await page.waitForTimeout(100);
      assert.equal(await row.getByRole('button', { name: 'less' }).count(), 1);
    }

    // The header and the navigation.
    assert.match(await el('version').innerText(), new RegExp(`^Bitácora ${s.version.replace(/\./g, '\\.')}, up `));
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.getByRole('link', { name: 'Status' }).getAttribute('aria-current'), 'page');
    assert.equal(await nav.getByRole('link', { name: 'Apps' }).getAttribute('aria-current'), null);
    await shot(page, 'status-wide-dark');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('opens Explore on {app="bitacora"} around a problem, where the problem is', async () => {
    const { page, problems } = await newPage(br.browser);
    const s = await openStatus(page, srv.base);
    const p = s.problems.find((x) => x.line.includes('configuration reload refused'));
    const ms = Number(BigInt(p.ts) / 1000000n);
    await page.getByTestId('problem').filter({ hasText: 'configuration reload refused' }).getByTestId('problem-link').click();
    await page.waitForURL((u) => u.pathname === '/explore');
    const u = new URL(page.url()).searchParams;
    assert.equal(u.get('query'), '{app="bitacora"}');
    assert.ok(Number(u.get('from')) < ms && ms < Number(u.get('to')), `${u} around ${ms}`);
    // The self log reaches the store within a second or two.
    await page.getByTestId('log-row').filter({ hasText: 'configuration reload refused' }).first().waitFor({ timeout: 15000 });
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('refreshes itself every 5 seconds', async () => {
    const { page, problems } = await newPage(br.browser);
    const s = await openStatus(page, srv.base);
    await push(srv.base, [{ labels: { app: 'shop', stream: 'stdout' }, lines: Array.from({ length: 7 }, (_, i) => [Date.now() - 1000 + i, `level=info msg="late order ${i}"`]) }]);
    const t0 = Date.now();
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=lines-total]')?.dataset.value) >= n, s.ingest.lines_total + 7, { timeout: 8000 });
    const took = Date.now() - t0;
    assert.ok(took <= 7000, `refreshed after ${took} ms`);
    assert.deepEqual(problems, []);
    await page.close();
  });

  for (const [name, viewport, colorScheme] of [
    ['status-wide-light', { width: 1400, height: 900 }, 'light'],
    ['status-phone-light', { width: 390, height: 844 }, 'light'],
    ['status-phone-dark', { width: 390, height: 844 }, 'dark'],
  ]) {
    it(`fits ${viewport.width} px in the ${colorScheme} theme (${name})`, async () => {
      const { page, problems } = await newPage(br.browser, { viewport, colorScheme });
      await page.addInitScript((t) => localStorage.setItem('bitacora.theme', t), colorScheme);
      await openStatus(page, srv.base);
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), colorScheme);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the window`);
      await shot(page, name);
      assert.deepEqual(problems, []);
      await page.close();
    });
  }

  it('says in words that the server cannot be reached when it stops', async () => {
    const other = await startServer();
    const { page } = await newPage(br.browser);
    await openStatus(page, other.base);
    await other.stop();
    await page.getByRole('button', { name: 'Refresh' }).click();
    const err = page.getByTestId('error');
    await err.waitFor();
    assert.match(await err.innerText(), /Could not load the status: Cannot reach the Bitácora server/);
    await page.close();
  });

  it('shows a DISK FULL banner when the disk is full (a real 16 MiB tmpfs)', async (t) => {
    if (!rootReady()) return t.skip('not root');
    const dir = mkdtempSync(join(tmpdir(), 'bitacora-status-full-'));
    const mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mnt]).status, 0, 'mount a tmpfs');
    let full;
    try {
      full = await startBitacora('server', mnt, 'store:\n  retention_period: 30d\n');
      // Fill the file system, then push until the store says so.
      const fd = openSync(join(mnt, 'ballast'), 'w');
      const chunk = Buffer.alloc(64 << 10, 0x5a);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (e) {
        assert.equal(e.code, 'ENOSPC');
      }
      fsyncSync(fd);
      closeSync(fd);
      let refused = null;
      for (let i = 0; i < 200 && !refused; i++) {
        const body = { streams: [{ stream: { app: 'filler' }, values: Array.from({ length: 50 }, (_, j) => [`${BigInt(Date.now()) * 1000000n + BigInt(j)}`, `line ${i}.${j} ${'x'.repeat(1000)}`]) }] };
        const r = await fetch(`${full.base}/loki/api/v1/push`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
        if (r.status === 507) refused = await r.text();
        else assert.equal(r.status, 204, await r.text());
      }
      assert.match(refused ?? '', /disk full/, 'a push is refused with 507');
      const s = await waitStatus(full.base, 'disk.full', (s) => s.disk.full && s.problems.some((p) => p.line.includes('disk full')));
      assert.ok(s.disk.free_bytes < 1 << 20, `free ${s.disk.free_bytes}`);
      assert.ok(statfsSync(mnt).bavail * statfsSync(mnt).bsize < 1 << 20);

      const { page, problems } = await newPage(br.browser, { viewport: { width: 1000, height: 800 } });
      await openStatus(page, full.base);
      const banner = page.getByTestId('disk-full');
      await banner.waitFor();
      assert.match(await banner.innerText(), /^DISK FULL/);
      assert.equal(await banner.getAttribute('role'), 'alert');
      assert.equal(await page.getByTestId('problem').filter({ hasText: 'disk full: pushes are refused' }).first().getAttribute('data-level'), 'error');
      assert.ok(Number(await page.getByTestId('disk-bar').getAttribute('aria-valuenow')) >= 95);
      await shot(page, 'status-disk-full');
      // The page's own requests succeeded: reads work on a full disk.
      assert.deepEqual(problems, []);
      await page.close();
    } finally {
      await full?.stop();
      spawnSync('umount', ['-l', mnt]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
