// Shared by the browser tests: a real bitacora server on a free port, pushes through its API,
// and a headless Debian Chromium driven by playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../..');
export const shotDir = join(repoRoot, 'ui/test-results');

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

/** Starts `bitacora server` (or, with `{ mode: 'run' }`, the server with the Docker agent) with a
 * temporary data dir (and extra environment, and `opts.args` after the mode, e.g. `--role query`);
 * resolves when /ready answers. */
export async function startServer(env = {}, opts = {}) {
  const bin = resolve(repoRoot, process.env.BITACORA_BIN ?? 'target/debug/bitacora');
  if (!existsSync(bin)) throw new Error(`bitacora binary not found at ${bin}: run cargo build -p bitacora or set BITACORA_BIN`);
  const dataDir = mkdtempSync(join(tmpdir(), 'bitacora-ui-test-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const proc = spawn(bin, [opts.mode ?? 'server', ...(opts.args ?? []), '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    env: { ...process.env, BITACORA_LIMITS__INGESTION_RATE_MB: '0', RUST_LOG: process.env.RUST_LOG ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const exited = new Promise((r) => proc.on('exit', (code) => r(code)));
  const deadline = Date.now() + 20000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`bitacora exited with ${proc.exitCode}:\n${log}`);
    try {
      const r = await fetch(`${base}/ready`);
      if (r.ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`bitacora did not become ready on ${base}:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    log: () => log,
    async stop() {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Pushes `{labels, lines: [[ms, line] | line], meta?}` streams through the JSON push API (`meta`:
 * structured metadata of every line). */
export async function push(base, streams, headers = {}) {
  const body = {
    streams: streams.map((s) => ({
      stream: s.labels,
      values: s.lines.map(([ms, line], i) => [`${BigInt(Math.round(ms)) * 1000000n + BigInt(i % 1000)}`, line, ...(s.meta ? [s.meta] : [])]),
    })),
  };
  const r = await fetch(`${base}/loki/api/v1/push`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  if (r.status !== 204) throw new Error(`push failed: ${r.status} ${await r.text()}`);
}

export async function apiQuery(base, path, params) {
  const r = await fetch(`${base}${path}?${new URLSearchParams(params)}`);
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

export async function launch() {
  const userDataDir = mkdtempSync(join(tmpdir(), 'bitacora-chromium-'));
  const executablePath = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
  // A fresh profile directory each run (playwright passes it to Chromium as --user-data-dir).
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    viewport: { width: 1400, height: 900 },
  });
  mkdirSync(shotDir, { recursive: true });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A new page that records console errors and failed requests, so tests can assert there were none. */
export async function newPage(browser, opts = {}) {
  const context = browser;
  const page = await context.newPage();
  await page.setViewportSize(opts.viewport ?? { width: 1400, height: 900 });
  // Reduced motion: no test waits on a transition to end.
  await page.emulateMedia({ colorScheme: opts.colorScheme ?? 'dark', reducedMotion: 'reduce' });
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} ${decodeURIComponent(r.url())}`));
  return { page, problems };
}

export const shot = (page, name) => page.screenshot({ path: join(shotDir, `${name}.png`), fullPage: false });

/** The binary the tests run. */
export function binPath() {
  return resolve(repoRoot, process.env.BITACORA_BIN ?? 'target/debug/bitacora');
}

export function exploreUrl(base, params) {
  return `${base}/explore?${new URLSearchParams(params)}`;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns something truthy. */
export async function waitFor(what, fn, timeout = 30000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(250);
  }
}

export { freePort };

/**
 * Starts `bitacora server` with a Prometheus data source (uid `prom`) provisioned the way Grafana's
 * are (a provisioning dir with datasources/prom.yml), then a real Prometheus (Debian's) on that
 * port, scraping the server's /metrics every second.
 */
export async function startWithPrometheus(env = {}) {
  const promPort = await freePort();
  const provDir = mkdtempSync(join(tmpdir(), 'bitacora-prov-'));
  mkdirSync(join(provDir, 'datasources'));
  writeFileSync(
    join(provDir, 'datasources', 'prom.yml'),
    `apiVersion: 1\ndatasources:\n  - name: Prometheus\n    type: prometheus\n    uid: prom\n    url: http://127.0.0.1:${promPort}\n    jsonData:\n      timeInterval: 1s\n`,
  );
  const server = await startServer({ BITACORA_DASHBOARDS__PROVISIONING_DIR: provDir, ...env });
  const promDir = mkdtempSync(join(tmpdir(), 'bitacora-prom-'));
  writeFileSync(join(promDir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: bitacora\n    static_configs:\n      - targets: ['${new URL(server.base).host}']\n`);
  const proc = spawn('prometheus', [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' });
  const prom = `http://127.0.0.1:${promPort}`;
  await waitFor('prometheus ready', async () => (await fetch(`${prom}/-/ready`)).ok, 30000);
  return {
    server,
    prom,
    provDir,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.on('exit', r)));
      await server.stop();
      rmSync(promDir, { recursive: true, force: true });
      rmSync(provDir, { recursive: true, force: true });
    },
  };
}
