// The status page's Cluster panel in a real browser: a writer and a query node sharing a real
// Garage bucket (scripts/garage.sh, built by scripts/test.sh). The query node shows itself, the
// writer it lists from the bucket, the writer's segments it serves, and who evaluates the rules;
// the writer's page says when the bucket stops answering, and again when it is back.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, push, launch, newPage, startServer, shot, waitFor } from './helpers.mjs';

const CI = process.env.CI === 'true';
const garageBin = process.env.GARAGE_BIN ?? join(repoRoot, 'target/garage/bin/garage');

function garage(...args) {
  const r = spawnSync(join(repoRoot, 'scripts/garage.sh'), args, { env: { ...process.env, GARAGE_BIN: garageBin }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`garage.sh ${args.join(' ')}: ${r.stderr}`);
}

describe('status page: the cluster', () => {
  let dir, writer, query, ui, env;
  const ready = existsSync(garageBin);
  if (!ready) {
    assert.ok(!CI, `CI needs Garage at ${garageBin}: scripts/garage.sh build`);
    console.log('SKIPPED: no Garage; run scripts/garage.sh build');
  }

  before(async () => {
    if (!ready) return;
    dir = mkdtempSync(join(tmpdir(), 'bitacora-ui-garage-'));
    garage('start', dir);
    env = Object.fromEntries(
      readFileSync(join(dir, 'env'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
    const common = {
      BITACORA_STORE__OBJECT_STORE__BUCKET: env.S3_BUCKET,
      BITACORA_STORE__OBJECT_STORE__ENDPOINT: env.S3_ENDPOINT,
      BITACORA_STORE__OBJECT_STORE__REGION: env.S3_REGION,
      BITACORA_STORE__OBJECT_STORE__ACCESS_KEY_ID: env.S3_ACCESS_KEY_ID,
      BITACORA_STORE__OBJECT_STORE__SECRET_ACCESS_KEY: env.S3_SECRET_ACCESS_KEY,
      BITACORA_STORE__OBJECT_STORE__PREFIX: 'ui',
      BITACORA_STORE__OBJECT_STORE__SYNC_INTERVAL: '200ms',
    };
    writer = await startServer({ ...common, BITACORA_CLUSTER__NODE_ID: 'writer-a' });
    query = await startServer({ ...common, BITACORA_CLUSTER__NODE_ID: 'query-1' }, { args: ['--role', 'query'] });
    ui = await launch();
  });

  after(async () => {
    await ui?.close();
    await query?.stop();
    await writer?.stop();
    if (dir) {
      try {
        garage('stop', dir);
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows this node, the writers in the bucket, their segments and the rule evaluator', { skip: !ready }, async () => {
    const now = Date.now();
    await push(writer.base, [{ labels: { app: 'shop' }, lines: Array.from({ length: 50 }, (_, i) => [now - 1000 + i, `order ${i}`]) }]);
    assert.equal((await fetch(`${writer.base}/flush`, { method: 'POST' })).status, 204);
    const { page, problems } = await newPage(ui.browser, { colorScheme: 'light' });
    await page.goto(`${query.base}/status`);
    const panel = page.getByTestId('cluster');
    await panel.waitFor();
    assert.equal(await page.getByTestId('cluster-node').getAttribute('data-value'), 'query-1');
    assert.equal(await page.getByTestId('cluster-role').getAttribute('data-value'), 'query');
    assert.match(await page.getByTestId('cluster-role').innerText(), new RegExp(`query node at ${query.base.replace(/[.]/g, '\\.')}`));
    assert.equal(await page.getByTestId('cluster-bucket').getAttribute('data-value'), 'ok');
    // The writer's announcement and its uploaded segment reach the query node within a few passes
    // (the page refreshes every 5 s).
    await waitFor('the writer listed with its segment', async () => {
      const peer = page.locator('[data-testid=cluster-peer][data-node=writer-a]');
      const foreign = Number(await page.getByTestId('cluster-foreign').getAttribute('data-value'));
      return (await peer.count()) === 1 && (await peer.getAttribute('data-role')) === 'writer' && foreign >= 1;
    }, 30000);
    assert.match(await page.locator('[data-testid=cluster-peer][data-node=writer-a]').innerText(), new RegExp(writer.base.replace(/[.]/g, '\\.')));
    // query-1 sorts before writer-a: it evaluates the rules.
    assert.equal(await page.getByTestId('cluster-rules').getAttribute('data-value'), 'query-1');
    // What the panel shows is what /api/status says.
    const c = (await (await fetch(`${query.base}/api/status`)).json()).cluster;
    assert.equal(c.evaluates_rules, true);
    await shot(page, 'status-cluster-query-node');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('says on the writer when the bucket stops answering, and when it is back', { skip: !ready }, async () => {
    const { page } = await newPage(ui.browser, { colorScheme: 'light' });
    await page.goto(`${writer.base}/status`);
    await page.getByTestId('cluster').waitFor();
    assert.equal(await page.getByTestId('cluster-role').getAttribute('data-value'), 'writer');
    // writer-a sorts after query-1, which is announced: the rules are evaluated there.
    await waitFor('query-1 named as the evaluator', async () => (await page.getByTestId('cluster-rules').getAttribute('data-value')) === 'query-1', 30000);
    garage('stop', dir);
    try {
      const now = Date.now();
      await push(writer.base, [{ labels: { app: 'shop' }, lines: [[now, 'during the outage']] }]);
      // The segment is cut; its upload waits (503 says so, as Loki's flush to a bucket does).
      const r = await fetch(`${writer.base}/flush`, { method: 'POST' });
      assert.equal(r.status, 503, await r.text());
      await waitFor('the bucket shown unreachable', async () => (await page.getByTestId('cluster-bucket').getAttribute('data-value')) === 'failing', 40000);
      assert.match(await page.getByTestId('cluster-failing').innerText(), /stay on this disk/);
      const pending = (await page.getByTestId('cluster-pending').getAttribute('data-value')).split('/').map(Number);
      assert.ok(pending[0] >= 1, `a segment waits to upload: ${pending}`);
      await shot(page, 'status-cluster-bucket-down');
    } finally {
      garage('restart', dir);
    }
    await waitFor('the bucket reachable again, nothing left to upload', async () => {
      const ok = (await page.getByTestId('cluster-bucket').getAttribute('data-value')) === 'ok';
      return ok && (await page.getByTestId('cluster-pending').getAttribute('data-value')).startsWith('0/');
    }, 60000);
    assert.equal(await page.getByTestId('cluster-failing').count(), 0);
    await page.close();
  });
});
