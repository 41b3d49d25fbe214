// Dashboards in a real Chromium against a real `bitacora server` and a real Prometheus (Debian's,
// scraping bitacora's /metrics): a dashboard with Loki and Prometheus panels, a query variable,
// a logs panel, a stat, a gauge, a table, a text panel and an unknown panel type, imported through
// POST /api/dashboards/db, rendered with data in every panel; the numbers shown are the APIs'
// answers; the variable changes the queries and the URL (var-app=); the range is in the URL and
// dragging on a chart zooms it; the unknown type shows its placeholder; 390 px is one column.
// Screenshots (light and dark, wide and 390 px) go to /tmp/shots-dash.
// The Prometheus data source is provisioned the way Grafana's is: a provisioning directory with
// `datasources/prom.yml`, passed as BITACORA_DASHBOARDS__PROVISIONING_DIR.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { apiQuery, launch, newPage, push, startWithPrometheus, waitFor } from './helpers.mjs';

const SHOTS = process.env.DASH_SHOTS ?? '/tmp/shots-dash';
const LOKI = { type: 'loki', uid: 'bitacora' };
const PROM = { type: 'prometheus', uid: 'prom' };
export const DASHBOARD = {
  uid: 'ui-test',
  title: 'UI test: apps',
  tags: ['test', 'dokku'],
  time: { from: 'now-1h', to: 'now' },
  graphTooltip: 1,
  templating: {
    list: [
      { name: 'app', type: 'query', datasource: LOKI, query: 'label_values({job="dokku"}, app)', refresh: 1, sort: 1, includeAll: false, multi: false },
      { name: 'rows', type: 'custom', query: '10,50,100', current: { value: '50', text: '50' } },
    ],
  },
  panels: [
    { id: 1, type: 'timeseries', title: 'Lines of $app', datasource: LOKI, gridPos: { x: 0, y: 0, w: 12, h: 8 }, targets: [{ refId: 'A', expr: 'sum by (app) (count_over_time({app="$app"} [$__auto]))', legendFormat: '{{app}}' }], fieldConfig: { defaults: { unit: 'short', custom: { drawStyle: 'bars', fillOpacity: 60 } } } },
    { id: 2, type: 'stat', title: 'Lines of $app in range', datasource: LOKI, gridPos: { x: 12, y: 0, w: 6, h: 4 }, targets: [{ refId: 'A', expr: 'sum(count_over_time({app="$app"} [$__range]))', queryType: 'instant' }], options: { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'value' }, fieldConfig: { defaults: { unit: 'none', thresholds: { mode: 'absolute', steps: [{ value: null, color: 'green' }, { value: 30, color: 'red' }] } } } },
    { id: 3, type: 'stat', title: 'Lines received (Prometheus)', datasource: PROM, gridPos: { x: 18, y: 0, w: 6, h: 4 }, targets: [{ refId: 'A', expr: 'sum(loki_distributor_lines_received_total)', instant: true }], fieldConfig: { defaults: { unit: 'short' } } },
    { id: 4, type: 'gauge', title: 'Error share of $app', datasource: LOKI, gridPos: { x: 12, y: 4, w: 6, h: 4 }, targets: [{ refId: 'A', expr: 'sum(count_over_time({app="$app"} |= "error" [$__range])) / sum(count_over_time({app="$app"} [$__range]))', queryType: 'instant' }], fieldConfig: { defaults: { unit: 'percentunit', min: 0, max: 1, thresholds: { mode: 'absolute', steps: [{ value: null, color: 'green' }, { value: 0.3, color: 'red' }] } } } },
    { id: 5, type: 'piechart', title: 'A pie', datasource: LOKI, gridPos: { x: 18, y: 4, w: 6, h: 4 }, targets: [{ refId: 'A', expr: 'sum by (app) (count_over_time({job="dokku"}[$__range]))' }] },
    { id: 10, type: 'row', title: 'Details', collapsed: false, gridPos: { x: 0, y: 8, w: 24, h: 1 }, panels: [] },
    { id: 6, type: 'table', title: 'Lines by app', datasource: LOKI, gridPos: { x: 0, y: 9, w: 8, h: 7 }, targets: [{ refId: 'A', expr: 'sum by (app) (count_over_time({job="dokku"}[$__range]))', instant: true, queryType: 'instant' }] },
    { id: 7, type: 'logs', title: 'Errors of $app', datasource: LOKI, gridPos: { x: 8, y: 9, w: 10, h: 7 }, targets: [{ refId: 'A', expr: '{app="$app"} |= "error"', maxLines: 100 }] },
    { id: 8, type: 'timeseries', title: 'Scrapes (Prometheus)', datasource: PROM, gridPos: { x: 18, y: 9, w: 6, h: 7 }, targets: [{ refId: 'A', expr: 'up{job="bitacora"}', legendFormat: '{{job}}' }] },
    { id: 9, type: 'text', title: 'About', gridPos: { x: 0, y: 16, w: 24, h: 3 }, options: { mode: 'markdown', content: '**App** is `$app`. <script>window.__pwned = 1</script> [docs](https://grafana.com/docs/)' } },
  ],
  schemaVersion: 39,
};

describe('dashboards', () => {
  let stack, server, prom, base, br;
  const now = Date.now();
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    stack = await startWithPrometheus();
    server = stack.server;
    const lines = (app, n, errors) => ({ labels: { job: 'dokku', app, process_type: 'web', container_name: `${app}.web.1`, stream: 'stdout' }, lines: Array.from({ length: n }, (_, i) => [now - 30 * 60e3 + i * 20e3, i < errors ? `level=error msg="upstream failed" app=${app} n=${i}` : `level=info msg="request served" app=${app} n=${i}`]) });
    await push(server.base, [lines('web', 40, 10), lines('api', 25, 5)]);
    prom = { base: stack.prom };
    base = server.base;
    const ds = await (await fetch(`${base}/api/datasources/uid/prom`)).json();
    assert.equal(ds.type, 'prometheus', JSON.stringify(ds));
    const r = await fetch(`${base}/api/dashboards/db`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ dashboard: DASHBOARD, overwrite: true, message: 'ui test' }) });
    assert.equal(r.status, 200, await r.clone().text());
    const saved = await r.json();
    assert.equal(saved.uid, 'ui-test');
    // Prometheus has scraped the pushed lines' counter.
    await waitFor('prometheus to scrape the pushed lines', async () => {
      const j = await apiQuery(prom.base, '/api/v1/query', { query: 'sum(loki_distributor_lines_received_total)' });
      return Number(j.data.result[0]?.value[1]) === 65;
    });
    br = await launch();
  });
  after(async () => {
    await br?.close();
    await stack?.stop();
  });

  const allDone = (page) => page.waitForFunction(() => {
    const ps = [...document.querySelectorAll('[data-testid=panel]')];
    return ps.length > 0 && ps.every((p) => p.dataset.state === 'done' || p.dataset.state === 'error');
  }, null, { timeout: 30000 });

  it('lists the imported dashboard and filters by tag', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(`${base}/dashboards`);
    await page.getByTestId('dash-link').filter({ hasText: 'UI test: apps' }).waitFor();
    await page.getByTestId('dash-search').fill('nothing like this');
    await page.getByText('No dashboard matches.').waitFor();
    await page.getByTestId('dash-search').fill('apps');
    await page.getByTestId('tag-filter').filter({ hasText: 'dokku' }).click();
    await page.waitForURL(/tag=dokku/);
    await page.getByTestId('dash-link').filter({ hasText: 'UI test: apps' }).click();
    await page.waitForURL(/\/d\/ui-test\/ui-test-apps/);
    await allDone(page);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('draws every panel with the numbers the APIs answer, and the variable changes the queries', async () => {
    const { page, problems } = await newPage(br.browser, { viewport: { width: 1400, height: 1000 } });
    await page.goto(`${base}/d/ui-test/ui-test-apps?from=now-1h&to=now&var-app=web`);
    await allDone(page);
    const states = await page.$$eval('[data-testid=panel]', (ps) => ps.map((p) => [p.dataset.type, p.dataset.state]));
    assert.equal(states.length, 9);
    for (const [type, st] of states) assert.equal(st, 'done', `${type} panel is ${st}`);
    // Loki stat: the API's own answer for the interpolated query.
    const lokiCount = async (q) => Number((await apiQuery(server.base, '/loki/api/v1/query', { query: q, time: `${Date.now()}000000` })).data.result[0]?.value[1]);
    const stat = (id) => page.locator(`[data-panel-id="${id}"] [data-testid=stat-value]`);
    assert.equal(await lokiCount('sum(count_over_time({app="web"} [3600s]))'), 40);
    assert.equal(await stat(2).getAttribute('data-value'), '40');
    assert.equal(await stat(2).textContent(), '40');
    // Thresholds: 40 ≥ 30 is red.
    assert.equal(await stat(2).evaluate((e) => getComputedStyle(e).color), 'rgb(242, 73, 92)');
    // Prometheus stat: the real Prometheus' answer, in the short unit.
    const promVal = Number((await apiQuery(prom.base, '/api/v1/query', { query: 'sum(loki_distributor_lines_received_total)' })).data.result[0].value[1]);
    assert.equal(await stat(3).getAttribute('data-value'), String(promVal));
    assert.equal(await stat(3).textContent(), '65');
    // Gauge: 10 errors of 40 lines.
    assert.equal(await page.locator('[data-panel-id="4"] [data-testid=gauge-value]').textContent(), '25%');
    // Table: one row per app with its count.
    const rows = await page.$$eval('[data-panel-id="6"] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    assert.deepEqual(rows.sort(), [['api', '25'], ['web', '40']]);
    // Logs: the 10 error lines of web.
    assert.equal(await page.locator('[data-panel-id="7"] [data-testid=logs]').getAttribute('data-rows'), '10');
    assert.match(await page.locator('[data-panel-id="7"] [data-testid=log-line]').first().textContent(), /upstream failed" app=web/);
    // Time series: a chart with one series (web) and bars summing to 40.
    assert.equal(await page.locator('[data-panel-id="1"] [data-testid=chart]').getAttribute('data-series'), '1');
    assert.equal(await page.locator('[data-panel-id="8"] [data-testid=chart]').getAttribute('data-series'), '1');
    assert.match(await page.locator('[data-panel-id="1"] .dpanel-title').textContent(), /Lines of web/);
    // Unknown type: the placeholder names it.
    assert.match(await page.locator('[data-panel-id="5"] [data-testid=unknown-panel]').textContent(), /Unsupported panel type “piechart”/);
    // Text: markdown with the variable, no script.
    assert.match(await page.locator('[data-panel-id="9"] [data-testid=text-panel]').innerHTML(), /<strong>App<\/strong> is <code>web<\/code>/);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator('[data-panel-id="9"] script').count(), 0);
    // The inspector shows the interpolated query as sent.
    await page.locator('[data-panel-id="2"] [data-testid=panel-menu]').click();
    await page.getByTestId('menu-inspect').click();
    await page.getByTestId('inspect-query').click();
    assert.equal(await page.getByTestId('inspect-expr').textContent(), 'sum(count_over_time({app="web"} [3600s]))');
    await page.keyboard.press('Escape');

    // The variable: api instead of web, in the URL and in every query.
    await page.locator('#var-app').selectOption('api');
    await page.waitForURL(/var-app=api/);
    await page.waitForFunction(() => document.querySelector('[data-panel-id="2"] [data-testid=stat-value]')?.dataset.value === '25');
    await allDone(page);
    assert.equal(await page.locator('[data-panel-id="7"] [data-testid=logs]').getAttribute('data-rows'), '5');
    assert.equal(await page.locator('[data-panel-id="4"] [data-testid=gauge-value]').textContent(), '20%');
    assert.match(page.url(), /from=now-1h&to=now/);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('zooms by dragging on a chart: from and to in the URL become the dragged span', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(`${base}/d/ui-test/ui-test-apps?from=now-1h&to=now&var-app=web`);
    await allDone(page);
    const over = page.locator('[data-panel-id="1"] .u-over');
    const box = await over.boundingBox();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForURL(/from=\d+&to=\d+/);
    const u = new URL(page.url());
    const from = Number(u.searchParams.get('from')), to = Number(u.searchParams.get('to'));
    assert.ok(to > from && to - from < 0.3 * 3600e3 && to - from > 0.1 * 3600e3, `zoomed to ${to - from} ms`);
    assert.equal(u.searchParams.get('var-app'), 'web');
    await allDone(page);
    // The zoomed range holds the lines from 30 minutes ago to 17 minutes ago: the stat counts those.
    const inRange = Number((await apiQuery(server.base, '/loki/api/v1/query', { query: `sum(count_over_time({app="web"} [${Math.round((to - from) / 1000)}s]))`, time: `${to}000000` })).data.result[0]?.value[1] ?? 0);
    await page.waitForFunction((n) => document.querySelector('[data-panel-id="2"] [data-testid=stat-value]')?.dataset.value === String(n), inRange);
    // Back returns to the hour.
    await page.goBack();
    await page.waitForURL(/from=now-1h/);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('draws the built-in "Dokku host" dashboard with data in every panel', async () => {
    const { page, problems } = await newPage(br.browser, { viewport: { width: 1400, height: 1000 } });
    await page.goto(`${base}/d/bitacora-dokku/dokku-host?from=now-1h&to=now`);
    await allDone(page);
    const states = await page.$$eval('[data-testid=panel]', (ps) => ps.map((p) => [p.querySelector('.dpanel-title')?.textContent, p.dataset.state, p.querySelector('.no-data') ? 'empty' : 'data']));
    assert.ok(states.length >= 4, `${states.length} panels`);
    for (const [title, st, has] of states) {
      assert.equal(st, 'done', `${title} is ${st}`);
      assert.equal(has, 'data', `${title} has no data`);
    }
    // The noisiest containers come first (the panel's sortBy), Docker event lines aside.
    const counts = await page.$$eval('[data-testid=panel] [data-testid=table] td[data-value]', (tds) => tds.map((td) => Number(td.dataset.value)));
    assert.ok(counts.length >= 2, `${counts.length} rows`);
    assert.deepEqual(counts, [...counts].sort((a, b) => b - a), 'noisiest first');
    // A log line starts right after its time stamp, not pushed across the panel.
    const gap = await page.$eval('[data-testid=logs] .row-main', (r) => r.querySelector('.line').getBoundingClientRect().left - r.querySelector('.ts').getBoundingClientRect().right);
    assert.ok(gap >= 0 && gap < 40, `gap between time and line: ${gap}px`);
    await page.screenshot({ path: join(SHOTS, 'dokku-host-wide-dark.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('is one column at 390 px, and screenshots in both themes', async () => {
    for (const theme of ['dark', 'light']) {
      for (const [w, h, name] of [[1400, 1000, 'wide'], [390, 844, 'narrow']]) {
        const { page, problems } = await newPage(br.browser, { viewport: { width: w, height: h }, colorScheme: theme });
        await page.goto(`${base}/d/ui-test/ui-test-apps?from=now-1h&to=now&var-app=web`);
        await page.evaluate((t) => {
          document.documentElement.dataset.theme = t;
          localStorage.setItem('bitacora.theme', t);
        }, theme);
        await page.reload();
        await allDone(page);
        await page.screenshot({ path: join(SHOTS, `dashboard-${name}-${theme}.png`), fullPage: true });
        if (w === 390) {
          const boxes = await page.$$eval('[data-testid=panel]', (ps) => ps.map((p) => p.getBoundingClientRect()).map((r) => [r.x, r.width]));
          for (const [x, bw] of boxes) assert.ok(x < 20 && bw > 340, `panel at x=${x} width=${bw}`);
          const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
          const wide = await page.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 391).slice(0, 5).map((e) => `${e.tagName}.${e.className}`));
          assert.ok(scroll <= 390, `page scrolls sideways: ${scroll} (${wide.join(', ')})`);
        }
        if (w === 1400) {
          await page.goto(`${base}/dashboards`);
          await page.getByTestId('dash-link').first().waitFor();
          await page.screenshot({ path: join(SHOTS, `list-${theme}.png`) });
        }
        assert.deepEqual(problems, []);
        await page.close();
      }
    }
  });
});
