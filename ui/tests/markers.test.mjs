// Deploy and crash markers in a real Chromium against a real server: container events pushed as
// the agent records them (`{source="docker", app=...}` logfmt lines), drawn on Explore's histogram
// and metric chart at their times, restricted to the query's app, with their facts on hover; the
// before/after comparison of a deploy with the error numbers counted from the pushed lines; a
// dashboard's time series panels sharing one fetch, following the `app` variable; the toggle.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, push, launch, newPage, shot, shotDir, exploreUrl } from './helpers.mjs';

const SHOTS13 = process.env.SHOTS13 ?? '/work/shots13';
let server, br;
const now = Date.now();
const from = now - 60 * 60e3;
const to = now;
const D = now - 30 * 60e3; // the deploy
const C = now - 10 * 60e3; // the OOM kill
const BLOG_D = now - 20 * 60e3;
const MIN = 60e3;

const events = { app: 'shop', process_type: 'web', host: 'vm1', source: 'docker' };
const web = { app: 'shop', process_type: 'web', container_type: 'deploy', dyno: 'web.1', container_name: 'shop.web.1', stream: 'stdout', host: 'vm1' };

before(async () => {
  mkdirSync(SHOTS13, { recursive: true });
  server = await startServer();
  br = await launch();
  // 30 lines in the 15 minutes before the deploy (6 errors), 30 after (15 errors).
  const beforeLines = Array.from({ length: 30 }, (_, i) => [D - 15 * MIN + 10_000 + i * 29_000, i % 5 === 0 ? `level=error msg="payment failed" n=${i}` : `level=info msg="ok" n=${i}`]);
  const afterLines = Array.from({ length: 30 }, (_, i) => [D + 10_000 + i * 29_000, i % 2 === 0 ? `level=error msg="payment failed" n=${i}` : `level=info msg="ok" n=${i}`]);
  await push(server.base, [
    { labels: web, lines: [...beforeLines, ...afterLines] },
    {
      labels: events,
      lines: [
        [D - 9_000, 'event=create container=shop.web.1 id=bbbbbbbbbbbb image=dokku/shop:latest'],
        [D, 'event=deploy container=shop.web.1 id=bbbbbbbbbbbb old_id=aaaaaaaaaaaa image=dokku/shop:latest image_id=222222222222 old_image=dokku/shop:latest old_image_id=111111111111 took=8.2s'],
        [C, 'event=oom container=shop.web.1 id=bbbbbbbbbbbb image=dokku/shop:latest'],
        [C + 400, 'event=die container=shop.web.1 id=bbbbbbbbbbbb exit_code=137 oom=true image=dokku/shop:latest'],
        [C + 2_000, 'event=start container=shop.web.1 id=bbbbbbbbbbbb image=dokku/shop:latest'],
        [now - 6 * MIN, 'event=die container=shop.web.1 id=bbbbbbbbbbbb exit_code=143 oom=false stopped=true image=dokku/shop:latest'],
        [now - 5 * MIN - 30_000, 'event=start container=shop.web.1 id=bbbbbbbbbbbb image=dokku/shop:latest'],
        [now - 5 * MIN, 'event=die container=shop.web.1 id=bbbbbbbbbbbb exit_code=0 image=dokku/shop:latest'],
      ],
    },
    { labels: { app: 'blog', process_type: 'web', host: 'vm1', source: 'docker' }, lines: [[BLOG_D, 'event=deploy container=blog.web.1 id=cccccccccccc old_id=dddddddddddd image=dokku/blog:latest took=3s']] },
    { labels: { app: 'blog', process_type: 'web', container_name: 'blog.web.1', stream: 'stdout', host: 'vm1' }, lines: Array.from({ length: 20 }, (_, i) => [now - 40 * MIN + i * 60_000, `level=info blog ${i}`]) },
  ]);
});

after(async () => {
  await br?.close();
  await server?.stop();
});

const keep = (name) => copyFileSync(join(shotDir, `${name}.png`), join(SHOTS13, `${name}.png`));

/** The markers drawn in a chart: kind, ms and the x of their line relative to the plot area's width. */
async function markersOf(chart) {
  const over = await chart.locator('.u-over').boundingBox();
  const out = [];
  for (const m of await chart.getByTestId('marker').all()) {
    const b = await m.boundingBox();
    out.push({ kind: await m.getAttribute('data-kind'), ms: Number(await m.getAttribute('data-ms')), count: Number(await m.getAttribute('data-count')), x: b.x + b.width / 2 - over.x, width: over.width });
  }
  return out.sort((a, b) => a.ms - b.ms);
}

function assertAt(m, ms) {
  const expected = ((ms - from) / (to - from)) * m.width;
  assert.ok(Math.abs(m.x - expected) <= 2, `marker at ${m.x.toFixed(1)} px, expected ${expected.toFixed(1)} px`);
}

describe('deploy and crash markers', () => {
  it('Explore draws the query app’s deploy and crash at their times, with the event on hover', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(exploreUrl(server.base, { query: '{app="shop"}', from: String(from), to: String(to) }));
    const h = page.getByTestId('histogram');
    await h.getByTestId('marker').nth(1).waitFor();
    const ms = await markersOf(h);
    // The deploy and one crash (the oom and die events of one kill); not the docker stop (exit 143,
    // stopped=true), the exit 0 nor blog's deploy.
    assert.deepEqual(ms.map((m) => [m.kind, m.ms, m.count]), [['deploy', D, 1], ['crash', C, 1]]);
    assertAt(ms[0], D);
    assertAt(ms[1], C);
    await h.locator('[data-kind=crash]').hover();
    const tip = h.getByTestId('marker-tip');
    await tip.waitFor();
    assert.match(await tip.innerText(), /crash of shop\.web\.1[\s\S]*exit code 137, out of memory \(OOM\)/);
    await h.locator('[data-kind=deploy]').hover();
    await tip.filter({ hasText: 'deploy of shop.web.1' }).waitFor();
    const t = await tip.innerText();
    assert.match(t, /took 8\.2s/);
    assert.match(t, /dokku\/shop:latest \(111111111111 → 222222222222\)/);
    assert.match(t, /aaaaaaaaaaaa → bbbbbbbbbbbb/);
    await shot(page, 'explore-markers');
    keep('explore-markers');
    // The metric chart has them too.
    await page.goto(exploreUrl(server.base, { query: 'sum(count_over_time({app="shop"} [1m]))', from: String(from), to: String(to) }));
    const chart = page.getByTestId('metric-chart');
    await chart.getByTestId('marker').nth(1).waitFor();
    const mm = await markersOf(chart);
    assert.deepEqual(mm.map((m) => m.kind), ['deploy', 'crash']);
    assertAt(mm[0], D);
    // All apps when the query names none: blog's deploy too.
    await page.goto(exploreUrl(server.base, { query: '{container_name=~".+"}', from: String(from), to: String(to) }));
    await h.getByTestId('marker').nth(2).waitFor();
    assert.deepEqual((await markersOf(h)).map((m) => [m.kind, m.ms]), [['deploy', D], ['deploy', BLOG_D], ['crash', C]]);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('the toggle hides the markers and is remembered', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(exploreUrl(server.base, { query: '{app="shop"}', from: String(from), to: String(to) }));
    const h = page.getByTestId('histogram');
    await h.getByTestId('marker').nth(1).waitFor();
    await page.getByTestId('markers-toggle').uncheck();
    await h.getByTestId('marker').first().waitFor({ state: 'detached' });
    await page.reload();
    await h.locator('canvas').waitFor();
    // 60 lines of the app and its 8 event lines.
    await page.getByTestId('row-count').filter({ hasText: '68 lines' }).waitFor();
    await page.waitForTimeout(500);
    assert.equal(await h.getByTestId('marker').count(), 0);
    assert.equal(await page.getByTestId('markers-toggle').isChecked(), false);
    await page.getByTestId('markers-toggle').check();
    await h.getByTestId('marker').nth(1).waitFor();
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('a click on a deploy compares the error rate before and after it, linking to Explore', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(exploreUrl(server.base, { query: '{app="shop"}', from: String(from), to: String(to) }));
    const h = page.getByTestId('histogram');
    await h.locator('[data-kind=deploy]').click();
    const c = page.getByTestId('compare');
    await c.getByTestId('compare-after-lines').waitFor();
    const text = async (id) => (await c.getByTestId(id).innerText()).trim();
    // 6 errors of 30 lines in 15 minutes before, 15 of 30 after.
    assert.equal(await text('compare-before-errors'), '6');
    assert.equal(await text('compare-before-lines'), '30');
    assert.equal(await text('compare-before-rate'), '0.40');
    assert.equal(await text('compare-before-share'), '20.0%');
    assert.equal(await text('compare-after-errors'), '15');
    assert.equal(await text('compare-after-lines'), '30');
    assert.equal(await text('compare-after-rate'), '1.00');
    assert.equal(await text('compare-after-share'), '50.0%');
    assert.match(await c.getByTestId('compare-after-rate').getAttribute('class'), /worse/);
    const before = new URL(await c.getByTestId('compare-before-link').getAttribute('href'), server.base);
    assert.equal(before.searchParams.get('from'), String(D - 15 * MIN));
    assert.equal(before.searchParams.get('to'), String(D));
    assert.equal(before.searchParams.get('query'), '{app="shop", source!="docker"} | detected_level=~"error|critical|fatal"');
    await shot(page, 'compare-deploy');
    keep('compare-deploy');
    // The after window in Explore: its 15 error lines.
    await c.getByTestId('compare-after-link').click();
    await page.waitForFunction((d) => new URL(location.href).searchParams.get('from') === String(d), D);
    await page.getByTestId('row-count').filter({ hasText: '15 lines' }).waitFor();
    assert.equal(await page.getByTestId('compare').count(), 0);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('dashboards draw them on every time series panel from one fetch, following the app variable', async () => {
    const LOKI = { type: 'loki', uid: 'bitacora' };
    const dash = {
      uid: 'markers-test',
      title: 'Markers',
      time: { from: 'now-1h', to: 'now' },
      templating: { list: [{ name: 'app', type: 'custom', query: 'shop,blog', current: { value: 'shop', text: 'shop' } }] },
      panels: [
        { id: 1, type: 'timeseries', title: 'Lines of $app', datasource: LOKI, gridPos: { x: 0, y: 0, w: 12, h: 8 }, targets: [{ refId: 'A', expr: 'sum(count_over_time({app="$app", source!="docker"} [$__auto]))' }] },
        { id: 2, type: 'timeseries', title: 'Errors of $app', datasource: LOKI, gridPos: { x: 12, y: 0, w: 12, h: 8 }, targets: [{ refId: 'A', expr: 'sum(count_over_time({app="$app", source!="docker"} | detected_level="error" [$__auto]))' }], fieldConfig: { defaults: { custom: { drawStyle: 'bars' } } } },
        { id: 3, type: 'stat', title: 'Lines', datasource: LOKI, gridPos: { x: 0, y: 8, w: 6, h: 4 }, targets: [{ refId: 'A', expr: 'sum(count_over_time({app="$app"} [$__range]))', queryType: 'instant' }] },
      ],
      schemaVersion: 39,
    };
    const r = await fetch(`${server.base}/api/dashboards/db`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ dashboard: dash, overwrite: true }) });
    assert.equal(r.status, 200, await r.text());
    const { page, problems } = await newPage(br.browser);
    const fetches = [];
    page.on('request', (q) => {
      const u = new URL(q.url());
      if (u.pathname.endsWith('/query_range') && u.searchParams.get('query')?.includes('source="docker"')) fetches.push(u.searchParams.get('query'));
    });
    await page.goto(`${server.base}/d/markers-test/markers?from=${from}&to=${to}`);
    const panels = page.locator('[data-testid=panel][data-type=timeseries]');
    for (const i of [0, 1]) await panels.nth(i).getByTestId('marker').nth(1).waitFor();
    for (const i of [0, 1]) {
      const ms = await markersOf(panels.nth(i));
      assert.deepEqual(ms.map((m) => [m.kind, m.ms]), [['deploy', D], ['crash', C]]);
      assertAt(ms[0], D);
      assertAt(ms[1], C);
    }
    assert.equal(fetches.length, 1, fetches.join('\n'));
    assert.equal(fetches[0], '{source="docker", app="shop"} | logfmt | event=~"deploy|die|oom"');
    await shot(page, 'dashboard-markers');
    keep('dashboard-markers');
    // The deploy opens the comparison here too.
    await panels.nth(0).locator('[data-kind=deploy]').click();
    await page.getByTestId('compare').getByTestId('compare-after-rate').filter({ hasText: '1.00' }).waitFor();
    await page.getByTestId('compare-close').click();
    // Another app: its markers, one more fetch.
    await page.goto(`${server.base}/d/markers-test/markers?from=${from}&to=${to}&var-app=blog`);
    await panels.nth(0).locator('[data-kind=deploy]').waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=panel]')].every((p) => p.dataset.state === 'done'));
    // (blog has no error lines: the second panel says No data and draws no chart.)
    assert.deepEqual((await markersOf(panels.nth(0))).map((m) => [m.kind, m.ms]), [['deploy', BLOG_D]]);
    assert.equal(fetches.length, 2);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
