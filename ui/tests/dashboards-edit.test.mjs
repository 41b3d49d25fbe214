// The dashboard editor in a real Chromium against a real `bitacora server`: a new dashboard built
// from scratch (a LogQL time series panel drawn from pushed lines), a panel moved and resized by
// dragging (snapped to the grid) and from the keyboard, duplicate and delete, discard asking when
// there are unsaved changes, and "Add to dashboard" from Explore; then, as a user would, against
// the real dashboard API and a real Prometheus (Debian's, scraping the server, provisioned as a
// data source from a Grafana provisioning dir): a LogQL + Prometheus dashboard made from the list's
// "New dashboard", saved with a message and reloaded unchanged; edit → save → versions with their
// messages → restore v1; a stale save → the conflict → overwrite; a provisioned dashboard refused
// but saved as a copy; import with `__inputs` mapped to a chosen data source; export → re-import.
// Screenshots in both themes go to /tmp/shots-dashedit.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { apiQuery, launch, newPage, push, startWithPrometheus, waitFor } from './helpers.mjs';

const SHOTS = process.env.DASHEDIT_SHOTS ?? '/tmp/shots-dashedit';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const QUERY = 'sum by (app) (count_over_time({app=~"web|api"} [1m]))';

describe('dashboard editor', () => {
  let stack, server, br;
  before(async () => {
    stack = await startWithPrometheus();
    server = stack.server;
    br = await launch();
    mkdirSync(SHOTS, { recursive: true });
    const now = Date.now();
    const lines = (app) => ({ labels: { app }, lines: Array.from({ length: 120 }, (_, i) => [now - 50 * 60e3 + i * 25e3, `level=info app=${app} n=${i}`]) });
    await push(server.base, [lines('web'), lines('api')]);
    await waitFor('prometheus to scrape the pushed lines', async () => {
      const j = await apiQuery(stack.prom, '/api/v1/query', { query: 'sum(loki_distributor_lines_received_total)' });
      return Number(j.data.result[0]?.value[1]) === 240;
    });
  });
  after(async () => {
    await br?.close();
    await stack?.stop();
  });
  const shots = async (page, name) => {
    for (const scheme of ['light', 'dark']) {
      if ((await page.evaluate(() => document.documentElement.dataset.theme)) !== scheme) {
        // Under a dialog the toggle cannot be clicked: set the theme the way the toggle does.
        if (await page.isVisible('.de-modal-back')) await page.evaluate((s) => (document.documentElement.dataset.theme = s), scheme);
        else await page.click('[data-testid="theme-toggle"]');
      }
      await sleep(250);
      await page.screenshot({ path: join(SHOTS, `${name}-${scheme}.png`), fullPage: true });
    }
  };
  const grid = (page, i = 0) => page.locator('[data-testid="edit-panel"]').nth(i).getAttribute('data-grid');

  it('builds a dashboard from scratch: a LogQL panel drawn live, moved and resized by drag and keys, duplicated, deleted; discard asks', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(`${server.base}/dashboard/new`);
    await page.click('[data-testid="empty-add-panel"]');
    await page.waitForSelector('[data-testid="panel-editor"]');
    assert.match(page.url(), /editPanel=1/);
    await page.click('[data-testid="target-logql"] .cm-content');
    await page.keyboard.type(QUERY);
    await page.fill('[data-testid="panel-title"]', 'Lines per app');
    await page.fill('[data-testid="target-legend"]', '{{app}}');
    await page.click('[data-testid="run-queries"]');
    await page.waitForSelector('[data-testid="live-panel"][data-state="done"][data-series="2"]', { timeout: 15000 });
    await page.selectOption('[data-testid="draw-style"]', 'bars');
    await page.fill('[data-testid="unit"]', 'short');
    await shots(page, 'panel-editor');
    await page.click('[data-testid="panel-apply"]');
    await page.waitForSelector('[data-testid="edit-grid"] [data-testid="edit-panel"]');
    assert.equal(await page.getAttribute('[data-testid="dashboard-editor"]', 'data-dirty'), '1');
    assert.equal(await grid(page), '0,0,12,8');

    // Drag the title bar right by about 6 columns and down by 2 rows: it snaps to whole cells.
    const head = await page.locator('[data-testid="panel-drag"]').boundingBox();
    const gw = (await page.locator('[data-testid="edit-grid"]').boundingBox()).width;
    const step = (gw - 8 * 23) / 24 + 8;
    await page.mouse.move(head.x + 40, head.y + 10);
    await page.mouse.down();
    await page.mouse.move(head.x + 40 + step * 3, head.y + 10, { steps: 4 });
    await page.mouse.move(head.x + 40 + step * 6 + 5, head.y + 10 + 38 * 2, { steps: 4 });
    assert.ok(await page.isVisible('[data-testid="drag-ghost"]'), 'a ghost shows where it lands');
    await page.mouse.up();
    await sleep(300); // the panel glides to its place
    // Nothing above it: it floats back up to row 0, but keeps its column.
    assert.equal(await grid(page), '6,0,12,8');
    const corner = await page.locator('[data-testid="panel-resize"]').boundingBox();
    await page.mouse.move(corner.x + 8, corner.y + 8);
    await page.mouse.down();
    await page.mouse.move(corner.x + 8 + step * 4, corner.y + 8 + 38 * 2, { steps: 5 });
    await page.mouse.up();
    await sleep(300);
    assert.equal(await grid(page), '6,0,16,10');
    await page.focus('[data-testid="edit-panel"]');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Shift+ArrowUp');
    assert.equal(await grid(page), '5,0,16,9');
    await sleep(300);

    await page.click('[data-testid="panel-duplicate"]');
    assert.equal(await page.locator('[data-testid="edit-panel"]').count(), 2, problems.join('\n'));
    await page.click('[data-testid="add-row"]');
    assert.equal(await page.locator('[data-testid="edit-row"]').count(), 1);
    await page.waitForSelector('[data-testid="live-panel"][data-state="done"][data-series="2"] >> nth=1', { timeout: 15000 });
    await shots(page, 'edit-mode');
    await page.click('[data-testid="row-toggle"]');
    assert.equal(await page.locator('[data-testid="edit-panel"]').count(), 0, 'the folded row holds both panels');
    await page.click('[data-testid="row-toggle"]');
    await sleep(300); // the unfolded panels glide into place
    assert.equal(await page.locator('[data-testid="edit-panel"]').count(), 2, problems.join('\n'));
    await page.locator('[data-testid="panel-delete"]').nth(1).click();
    assert.equal(await page.locator('[data-testid="edit-panel"]').count(), 1);

    await page.click('[data-testid="discard"]');
    await page.waitForSelector('[data-testid="discard-dialog"]');
    await shots(page, 'discard-dialog');
    await page.click('[data-testid="discard-cancel"]');
    assert.equal(await page.locator('[data-testid="edit-panel"]').count(), 1, 'keep editing keeps the draft');

    await page.click('[data-testid="open-settings"]');
    await page.fill('[data-testid="settings-title"]', 'From scratch');
    await page.click('[data-testid="settings-variables"]');
    await page.click('[data-testid="var-add"]');
    await page.fill('[data-testid="var-name"]', 'app');
    await page.fill('[data-testid="var-query"]', 'web, api');
    await shots(page, 'settings-variables');
    await page.click('[data-testid="settings-close"]');
    await page.click('[data-testid="open-export"]');
    const exported = JSON.parse(await page.inputValue('[data-testid="export-json"]'));
    assert.equal(exported.title, 'From scratch');
    assert.deepEqual(exported.templating.list.map((v) => [v.name, v.type, v.query]), [['app', 'custom', 'web, api']]);
    assert.equal(exported.panels.find((p) => p.type === 'timeseries').targets[0].expr, QUERY);
    await page.check('[data-testid="export-external"]');
    const shared = JSON.parse(await page.inputValue('[data-testid="export-json"]'));
    assert.deepEqual(shared.__inputs.map((i) => i.pluginId), ['loki']);
    assert.match(JSON.stringify(shared.panels), /\$\{DS_BIT_CORA\}/);
    await shots(page, 'export');
    await page.keyboard.press('Escape');
    assert.deepEqual(problems, []);
  });

  it('adds a query from Explore to a new dashboard, opened in edit mode with the panel unsaved', async () => {
    const { page } = await newPage(br.browser, { colorScheme: 'light' });
    await page.goto(`${server.base}/explore?${new URLSearchParams({ query: '{app="web"}', from: 'now-1h', to: 'now' })}`);
    await page.click('[data-testid="add-to-dashboard-open"]');
    await page.waitForSelector('[data-testid="add-to-dashboard"]');
    await shots(page, 'explore-add');
    await page.click('[data-testid="add-open"]');
    await page.waitForSelector('[data-testid="edit-panel"]');
    assert.equal(await page.getAttribute('[data-testid="dashboard-editor"]', 'data-dirty'), '1');
    assert.equal(await grid(page), '0,0,24,10');
    await page.waitForSelector('[data-testid="live-panel"][data-state="done"]', { timeout: 15000 });
    assert.ok(Number(await page.getAttribute('[data-testid="live-panel"]', 'data-logs')) > 0, 'the logs panel shows the lines');
    await shots(page, 'explore-added');
    // Leaving through the UI with unsaved changes asks (dismissed: we stay).
    page.once('dialog', (d) => d.dismiss());
    await page.click('nav[aria-label="Main"] a[href="/apps"]');
    assert.match(page.url(), /\/dashboard\/new/);
  });

  const api = async (path, init) => {
    const r = await fetch(`${server.base}${path}`, init);
    const text = await r.text();
    if (!r.ok) throw new Error(`${path}: ${r.status} ${text}`);
    return JSON.parse(text);
  };
  const postDash = (body) => api('/api/dashboards/db', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const uidOf = (url) => decodeURIComponent(new URL(url).pathname.split('/')[2]);
  const save = async (page, message) => {
    await page.click('[data-testid="save"]');
    await page.waitForSelector('[data-testid="save-dialog"]');
    if (await page.isVisible('[data-testid="save-message"]')) await page.fill('[data-testid="save-message"]', message);
  };
  const panelsDone = (page) =>
    page.waitForFunction(() => {
      const ps = [...document.querySelectorAll('[data-testid=panel]')];
      return ps.length > 0 && ps.every((p) => p.dataset.state === 'done' || p.dataset.state === 'error');
    }, null, { timeout: 30000 });
  let made; // the uid of the dashboard made from scratch

  it('makes a LogQL + Prometheus dashboard from "New dashboard", saves it with a message, reloads it unchanged', async () => {
    const { page, problems } = await newPage(br.browser, { viewport: { width: 1400, height: 1000 } });
    await page.goto(`${server.base}/dashboards`);
    await page.click('[data-testid="dash-new"]');
    await page.waitForURL(/\/dashboard\/new/);
    await page.click('[data-testid="empty-add-panel"]');
    await page.click('[data-testid="target-logql"] .cm-content');
    await page.keyboard.type(QUERY);
    await page.fill('[data-testid="panel-title"]', 'Lines per app');
    await page.fill('[data-testid="target-legend"]', '{{app}}');
    await page.click('[data-testid="run-queries"]');
    await page.waitForSelector('[data-testid="live-panel"][data-state="done"][data-series="2"]', { timeout: 15000 });
    // The viewer's chart in the preview: full height, a line per series, a styled legend.
    const chart = await page.locator('[data-testid="panel-preview"] [data-testid="chart"]').boundingBox();
    assert.ok(chart.height > 200, `the preview chart is ${chart.height} px high`);
    assert.equal(await page.locator('[data-testid="panel-preview"] canvas').count(), 1);
    const legend = await page.locator('[data-testid="panel-preview"] .dl-list, [data-testid="panel-preview"] .dl-table-wrap').first();
    assert.equal(await legend.evaluate((e) => getComputedStyle(e).display), 'flex');
    await page.click('[data-testid="panel-apply"]');

    // A Prometheus stat over the real Prometheus scraping this server.
    await page.click('[data-testid="add-panel"]');
    await page.waitForSelector('[data-testid="panel-editor"]');
    await page.selectOption('[data-testid="viz-picker"]', 'stat');
    await page.selectOption('[data-testid="target-ds"]', 'prom');
    await page.fill('[data-testid="target-promql"]', 'sum(loki_distributor_lines_received_total)');
    await page.check('[data-testid="target-instant"]');
    await page.fill('[data-testid="panel-title"]', 'Lines received');
    await page.click('[data-testid="run-queries"]');
    await page.waitForSelector('[data-testid="panel-preview"] [data-testid="stat-value"]:not([data-value=""])', { timeout: 15000 });
    await page.click('[data-testid="panel-apply"]');
    await page.waitForSelector('[data-testid="edit-panel"] >> nth=1');
    // As in Grafana, the new panel goes on top and pushes the others down.
    const byTitle = (t) => page.locator('[data-testid="edit-panel"]', { has: page.locator('.de-title', { hasText: t }) });
    assert.equal(await byTitle('Lines received').getAttribute('data-grid'), '0,0,12,8');
    assert.equal(await byTitle('Lines per app').getAttribute('data-grid'), '0,8,12,8');

    // Drag the stat by its title bar 12 columns right: the chart floats up beside it; then
    // resize the stat by its corner, 4 columns narrower and 3 rows lower: all snapped.
    const gw = (await page.locator('[data-testid="edit-grid"]').boundingBox()).width;
    const step = (gw - 8 * 23) / 24 + 8;
    const head = await byTitle('Lines received').locator('[data-testid="panel-drag"]').boundingBox();
    await page.mouse.move(head.x + 40, head.y + 10);
    await page.mouse.down();
    await page.mouse.move(head.x + 40 + step * 6, head.y + 10, { steps: 4 });
    await page.mouse.move(head.x + 40 + step * 12 + 5, head.y + 10, { steps: 4 });
    await page.mouse.up();
    await sleep(300);
    assert.equal(await byTitle('Lines received').getAttribute('data-grid'), '12,0,12,8');
    assert.equal(await byTitle('Lines per app').getAttribute('data-grid'), '0,0,12,8');
    const corner = await byTitle('Lines received').locator('[data-testid="panel-resize"]').boundingBox();
    await page.mouse.move(corner.x + 8, corner.y + 8);
    await page.mouse.down();
    await page.mouse.move(corner.x + 8 - step * 4, corner.y + 8 - 38 * 3, { steps: 5 });
    await page.mouse.up();
    await sleep(300);
    assert.equal(await byTitle('Lines received').getAttribute('data-grid'), '12,0,8,5');

    await save(page, 'first: lines and Prometheus');
    await page.fill('[data-testid="save-title"]', 'Made here');
    await page.click('[data-testid="save-confirm"]');
    await page.waitForURL(/\/d\/[^/]+\/made-here\?edit=1/);
    made = uidOf(page.url());
    await page.waitForSelector('[data-testid="dashboard-editor"][data-dirty="0"]');
    const stored = await api(`/api/dashboards/uid/${made}`);
    assert.equal(stored.dashboard.title, 'Made here');
    assert.equal(stored.meta.version, 1);
    assert.deepEqual(stored.dashboard.panels.map((p) => [p.type, p.title]), [['timeseries', 'Lines per app'], ['stat', 'Lines received']], JSON.stringify(stored.dashboard.panels.map((p) => p.gridPos)));
    assert.deepEqual(stored.dashboard.panels.map((p) => [p.gridPos.x, p.gridPos.y, p.gridPos.w, p.gridPos.h]), [[0, 0, 12, 8], [12, 0, 8, 5]]);
    assert.equal(stored.dashboard.panels[1].targets[0].datasource.uid, 'prom');
    assert.equal(stored.dashboard.panels[0].targets[0].expr, QUERY);

    // Out of edit mode and reloaded: the same dashboard, drawn with data; the stat is Prometheus' answer.
    await page.click('[data-testid="discard"]');
    await page.waitForSelector('[data-testid="dashboard"]');
    await page.reload();
    await panelsDone(page);
    const states = await page.$$eval('[data-testid=panel]', (ps) => ps.map((p) => [p.dataset.type, p.dataset.state]));
    assert.deepEqual(states, [['timeseries', 'done'], ['stat', 'done']]);
    const promVal = (await apiQuery(stack.prom, '/api/v1/query', { query: 'sum(loki_distributor_lines_received_total)' })).data.result[0]?.value[1];
    assert.equal(promVal, '240');
    assert.equal(await page.locator('[data-testid=stat-value]').getAttribute('data-value'), promVal);
    assert.equal(await page.locator('[data-testid="chart"]').getAttribute('data-series'), '2');
    assert.deepEqual((await api(`/api/dashboards/uid/${made}`)).dashboard, stored.dashboard, 'reloading changed nothing');
    await shots(page, 'saved-view');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('edit → save → versions with their messages → restore v1 gives v1 back', async () => {
    const { page, problems } = await newPage(br.browser, { viewport: { width: 1400, height: 1000 } });
    const v1 = (await api(`/api/dashboards/uid/${made}`)).dashboard;
    await page.goto(`${server.base}/d/${made}/made-here`);
    await page.click('[data-testid="dash-edit"]');
    await page.waitForSelector('[data-testid="dashboard-editor"]');
    await page.click('[data-testid="open-settings"]');
    await page.fill('[data-testid="settings-title"]', 'Made here, renamed');
    await page.click('[data-testid="settings-close"]');
    await save(page, 'second: renamed');
    await page.click('[data-testid="save-confirm"]');
    await page.waitForSelector('[data-testid="notice"]');
    assert.match(await page.textContent('[data-testid="notice"]'), /version 2/);
    assert.equal((await api(`/api/dashboards/uid/${made}`)).dashboard.title, 'Made here, renamed');
    await page.click('[data-testid="open-versions"]');
    await page.waitForSelector('[data-testid="version-row"]');
    const rows = await page.$$eval('[data-testid="version-row"]', (rs) => rs.map((r) => [r.dataset.version, r.querySelector('[data-testid="version-message"]').textContent]));
    assert.deepEqual(rows, [['2', 'second: renamed'], ['1', 'first: lines and Prometheus']]);
    await shots(page, 'versions');
    await page.locator('[data-testid="version-row"][data-version="1"] [data-testid="version-restore"]').click();
    await page.locator('[data-testid="version-row"][data-version="1"] [data-testid="version-restore-confirm"]').click();
    await waitFor('the restore', async () => (await api(`/api/dashboards/uid/${made}`)).meta.version === 3);
    const now = (await api(`/api/dashboards/uid/${made}`)).dashboard;
    const strip = ({ version, id, ...d }) => d;
    assert.deepEqual(strip(now), strip(v1), 'version 3 is version 1 again');
    await page.waitForSelector('[data-testid="notice"]');
    assert.match(await page.textContent('[data-testid="notice"]'), /Restored: the dashboard is now version 3/);
    assert.equal(await page.textContent('.de-dash-title'), 'Made here');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('a stale save shows the conflict, and "Save and overwrite" wins', async () => {
    const { page, problems } = await newPage(br.browser, { viewport: { width: 1400, height: 1000 } });
    await page.goto(`${server.base}/d/${made}/made-here?edit=1`);
    await page.waitForSelector('[data-testid="edit-panel"]');
    // Someone else saves meanwhile.
    const other = (await api(`/api/dashboards/uid/${made}`)).dashboard;
    await postDash({ dashboard: { ...other, tags: ['someone-else'] }, message: 'elsewhere' });
    await page.locator('[data-testid="panel-duplicate"]').first().click();
    await save(page, 'mine');
    await page.click('[data-testid="save-confirm"]');
    await page.waitForSelector('[data-testid="save-conflict"][data-kind="version-mismatch"]');
    await shots(page, 'conflict');
    assert.equal((await api(`/api/dashboards/uid/${made}`)).dashboard.panels.length, 2, 'nothing saved yet');
    await page.click('[data-testid="save-overwrite"]');
    await page.waitForSelector('[data-testid="dashboard-editor"][data-dirty="0"]');
    const after = await api(`/api/dashboards/uid/${made}`);
    assert.equal(after.meta.version, 5);
    assert.equal(after.dashboard.panels.length, 3);
    assert.deepEqual(after.dashboard.tags ?? [], [], 'the overwrite replaced the other save');
    assert.deepEqual(problems.filter((p) => !/HTTP 412|status of 412/.test(p)), []);
    await page.close();
  });

  it('a provisioned dashboard cannot be saved, but "Save as copy" works', async () => {
    const { page, problems } = await newPage(br.browser, { viewport: { width: 1400, height: 1000 } });
    await page.goto(`${server.base}/d/bitacora-dokku/dokku-host`);
    await page.click('[data-testid="dash-edit"]');
    await page.waitForSelector('[data-testid="provisioned-note"]');
    await page.click('[data-testid="save"]');
    await page.waitForSelector('[data-testid="save-conflict"][data-kind="provisioned"]');
    await shots(page, 'provisioned-save');
    await page.fill('[data-testid="copy-title"]', 'My Dokku host');
    await page.click('[data-testid="save-copy"]');
    await page.waitForURL(/\/d\/[^/]+\/my-dokku-host/);
    const copy = await api(`/api/dashboards/uid/${uidOf(page.url())}`);
    const orig = await api('/api/dashboards/uid/bitacora-dokku');
    assert.notEqual(copy.dashboard.uid, 'bitacora-dokku');
    assert.equal(copy.meta.provisioned, false);
    assert.equal(copy.meta.canSave, true);
    assert.deepEqual(copy.dashboard.panels, orig.dashboard.panels);
    assert.equal(orig.dashboard.title, 'Dokku host', 'the original is unchanged');
    // The API refuses a save in place too.
    const r = await fetch(`${server.base}/api/dashboards/db`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ dashboard: { ...orig.dashboard, title: 'changed' }, overwrite: true }) });
    assert.ok(r.status >= 400, `saving a provisioned dashboard answered ${r.status}`);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('imports Grafana JSON with __inputs mapped to a chosen data source; exports and re-imports', async () => {
    const { page, problems } = await newPage(br.browser, { viewport: { width: 1400, height: 1000 } });
    const shared = {
      __inputs: [
        { name: 'DS_PROM', label: 'Prometheus', type: 'datasource', pluginId: 'prometheus' },
        { name: 'DS_LOKI', label: 'Loki', type: 'datasource', pluginId: 'loki' },
      ],
      title: 'Shared by someone',
      uid: 'shared-1',
      time: { from: 'now-1h', to: 'now' },
      panels: [
        { id: 1, type: 'stat', title: 'Scrapes up', datasource: { type: 'prometheus', uid: '${DS_PROM}' }, gridPos: { x: 0, y: 0, w: 8, h: 5 }, targets: [{ refId: 'A', expr: 'up{job="bitacora"}', instant: true, datasource: { type: 'prometheus', uid: '${DS_PROM}' } }] },
        { id: 2, type: 'timeseries', title: 'Lines', datasource: { type: 'loki', uid: '${DS_LOKI}' }, gridPos: { x: 8, y: 0, w: 16, h: 8 }, targets: [{ refId: 'A', expr: QUERY, datasource: { type: 'loki', uid: '${DS_LOKI}' } }] },
      ],
      schemaVersion: 39,
    };
    await page.goto(`${server.base}/dashboards`);
    await page.click('[data-testid="dash-import"]');
    await page.waitForURL(/\/dashboards\/import/);
    await page.fill('[data-testid="import-json"]', JSON.stringify(shared, null, 2));
    await page.waitForSelector('[data-testid="import-options"]');
    await page.selectOption('[data-testid="import-ds"][data-input="DS_PROM"]', 'prom');
    await page.selectOption('[data-testid="import-ds"][data-input="DS_LOKI"]', 'bitacora');
    await shots(page, 'import');
    await page.click('[data-testid="import-submit"]');
    await page.waitForURL(/\/d\/shared-1\/shared-by-someone/);
    await panelsDone(page);
    const states = await page.$$eval('[data-testid=panel]', (ps) => ps.map((p) => p.dataset.state));
    assert.deepEqual(states, ['done', 'done']);
    assert.equal(await page.locator('[data-testid=stat-value]').getAttribute('data-value'), '1');
    const got = (await api('/api/dashboards/uid/shared-1')).dashboard;
    assert.deepEqual(got.panels.map((p) => p.targets[0].datasource.uid), ['prom', 'bitacora']);
    assert.ok(!JSON.stringify(got).includes('DS_'), 'no input left unresolved');

    // Export for sharing (inputs again) and import that as a new dashboard.
    await page.click('[data-testid="dash-edit"]');
    await page.click('[data-testid="open-export"]');
    await page.check('[data-testid="export-external"]');
    const exported = await page.inputValue('[data-testid="export-json"]');
    assert.deepEqual(JSON.parse(exported).__inputs.map((i) => i.pluginId).sort(), ['loki', 'prometheus']);
    await page.keyboard.press('Escape');
    await page.click('[data-testid="discard"]');
    await page.goto(`${server.base}/dashboards/import`);
    await page.fill('[data-testid="import-json"]', exported);
    await page.fill('[data-testid="import-title"]', 'Shared again');
    await page.click('[data-testid="import-new-uid"]');
    await page.click('[data-testid="import-submit"]');
    await page.waitForURL(/\/d\/[^/]+\/shared-again/);
    await panelsDone(page);
    const again = (await api(`/api/dashboards/uid/${uidOf(page.url())}`)).dashboard;
    assert.notEqual(again.uid, 'shared-1');
    assert.deepEqual(again.panels.map((p) => [p.title, p.targets[0].expr, p.targets[0].datasource.uid]), got.panels.map((p) => [p.title, p.targets[0].expr, p.targets[0].datasource.uid]));
    assert.deepEqual(problems, []);
    await page.close();
  });
});
