// Explore in a real browser against a real server: rows, histogram, filters, context, live tail,
// metric chart, errors, label browser and completion.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, push, launch, newPage, shot, exploreUrl, apiQuery } from './helpers.mjs';

let server, br, now;
const SHOP_WEB = 40;
const SHOP_WORKER = 20;
const BLOG = 10;

before(async () => {
  server = await startServer();
  br = await launch();
  now = Date.now();
  // shop/web: one line every 30 s, the oldest first; every fifth is an error.
  const web = Array.from({ length: SHOP_WEB }, (_, i) => [now - (SHOP_WEB - i) * 30_000, i % 5 === 0 ? `level=error msg="checkout failed" order=${i} reason=card_declined` : `level=info msg="checkout ok" order=${i} ms=${10 + i}`]);
  const worker = Array.from({ length: SHOP_WORKER }, (_, i) => [now - (SHOP_WORKER - i) * 45_000 - 7_000, JSON.stringify({ level: 'warn', msg: 'queue slow', job: i, queue: 'mail' })]);
  const blog = Array.from({ length: BLOG }, (_, i) => [now - (BLOG - i) * 60_000 - 3_000, `\x1b[32mGET\x1b[0m /posts/${i} 200 in ${i + 3}ms`]);
  const dokku = (app, proc, stream = 'stdout') => ({ app, process_type: proc, container_type: 'deploy', dyno: `${proc}.1`, container_name: `${app}.${proc}.1`, stream, host: 'vm1' });
  await push(server.base, [
    { labels: dokku('shop', 'web'), lines: web },
    { labels: dokku('shop', 'worker'), lines: worker },
    { labels: dokku('blog', 'web'), lines: blog },
  ]);
});

after(async () => {
  await br?.close();
  await server?.stop();
});

async function open(params, opts) {
  const { page, problems } = await newPage(br.browser, opts);
  await page.goto(exploreUrl(server.base, params));
  return { page, problems };
}

const rowCount = async (page) => Number((await page.getByTestId('row-count').innerText()).split(' ')[0]);

describe('explore', () => {
  it('shows the rows of a shareable URL, newest first, with levels and matches highlighted', async () => {
    const { page, problems } = await open({ query: '{app="shop"} |= "checkout"', from: 'now-1h', to: 'now' });
    await page.getByTestId('row-count').filter({ hasText: `${SHOP_WEB} lines` }).waitFor();
    const first = page.getByTestId('log-row').first();
    assert.match(await first.innerText(), /order=39 /);
    assert.equal(await first.getAttribute('data-level'), 'info');
    assert.equal(await page.locator('[data-testid=log-row][data-level=error]').first().isVisible(), true);
    assert.equal(await first.locator('mark').first().innerText(), 'checkout');
    // The editor shows the query from the URL.
    assert.equal(await page.getByTestId('query-input').innerText(), '{app="shop"} |= "checkout"');
    // Oldest first reverses the order and lands in the URL.
    await page.getByLabel('Order').selectOption('oldest');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('order') === 'oldest');
    await page.getByTestId('log-row').first().filter({ hasText: 'order=0 ' }).waitFor();
    await shot(page, 'explore-logs');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('loads further pages of lines without duplicates', async () => {
    const { page, problems } = await open({ query: '{app="shop"}', from: 'now-1h', to: 'now', limit: '25' });
    await page.getByTestId('row-count').filter({ hasText: '25 lines' }).waitFor();
    await page.getByTestId('load-more').click();
    await page.getByTestId('row-count').filter({ hasText: '50 lines' }).waitFor();
    await page.getByTestId('load-more').click();
    await page.getByTestId('row-count').filter({ hasText: '60 lines' }).waitFor();
    await page.getByTestId('load-more').waitFor({ state: 'detached' });
    // Scrolled to the end, the oldest web line (order 0) is the last row.
    await page.getByTestId('log-list').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.getByTestId('log-row').last().filter({ hasText: /order=0 / }).waitFor();
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('draws the log volume histogram stacked by level over the range', async () => {
    const { page, problems } = await open({ query: '{app="shop"}', from: 'now-1h', to: 'now' });
    const h = page.getByTestId('histogram');
    await h.locator('canvas').waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid=histogram]')?.getAttribute('data-total') === '60');
    assert.deepEqual((await h.getAttribute('data-levels')).split(',').sort(), ['error', 'info', 'warn']);
    assert.equal(await page.getByTestId('histogram-total').innerText(), '60 lines in the range');
    const box = await h.locator('canvas').boundingBox();
    assert.ok(box.width > 500 && box.height > 50, `histogram canvas is ${box.width}x${box.height}`);
    // Dragging over the histogram zooms: the URL gets absolute epoch-millisecond times.
    const over = h.locator('.u-over');
    const ob = await over.boundingBox();
    await page.mouse.move(ob.x + ob.width * 0.5, ob.y + ob.height / 2);
    await page.mouse.down();
    await page.mouse.move(ob.x + ob.width * 0.9, ob.y + ob.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => /^\d{13}$/.test(new URL(location.href).searchParams.get('from') ?? ''));
    const u = new URL(page.url());
    const from = Number(u.searchParams.get('from')), to = Number(u.searchParams.get('to'));
    assert.ok(to - from < 40 * 60_000 && to - from > 10 * 60_000, `zoomed range is ${(to - from) / 60000} min`);
    await page.getByTestId('row-count').filter({ hasNotText: /^60 / }).waitFor();
    assert.ok((await rowCount(page)) < 60);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('filter for a label value changes the query and the rows', async () => {
    const { page, problems } = await open({ query: '{app="shop"}', from: 'now-1h', to: 'now' });
    await page.getByTestId('row-count').filter({ hasText: '60 lines' }).waitFor();
    await page.getByTestId('log-row').filter({ hasText: 'queue slow' }).first().locator('.row-main').click();
    const field = page.getByTestId('field-stream-process_type').first();
    await field.waitFor();
    await shot(page, 'explore-details');
    await field.getByTestId('filter-for').click();
    await page.getByTestId('row-count').filter({ hasText: `${SHOP_WORKER} lines` }).waitFor();
    assert.equal(await page.getByTestId('query-input').innerText(), '{app="shop", process_type="worker"}');
    assert.equal(new URL(page.url()).searchParams.get('query'), '{app="shop", process_type="worker"}');
    for (const t of await page.getByTestId('log-line').allInnerTexts()) assert.match(t, /queue slow/);
    // A parsed JSON field: filter out job 19 adds `| json | job!="19"`.
    await page.getByTestId('log-row').first().locator('.row-main').click();
    await page.getByTestId('field-parsed-job').first().getByTestId('filter-out').click();
    await page.getByTestId('row-count').filter({ hasText: `${SHOP_WORKER - 1} lines` }).waitFor();
    assert.equal(await page.getByTestId('query-input').innerText(), '{app="shop", process_type="worker"} | json | job!="19"');
    // Back restores the previous query and its rows.
    await page.goBack();
    await page.getByTestId('row-count').filter({ hasText: `${SHOP_WORKER} lines` }).waitFor();
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('shows the context of a line in its stream', async () => {
    const { page, problems } = await open({ query: '{app="shop", process_type="web"} |= "order=20 "', from: 'now-1h', to: 'now' });
    await page.getByTestId('row-count').filter({ hasText: '1 lines' }).waitFor();
    await page.getByTestId('log-row').first().locator('.row-main').click();
    // Copy puts the line on the clipboard.
    await br.browser.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
    await page.getByTestId('copy-line').click();
    await page.getByTestId('copy-line').filter({ hasText: 'Copied' }).waitFor();
    assert.match(await page.evaluate(() => navigator.clipboard.readText()), /^level=error msg="checkout failed" order=20 reason=card_declined$/);
    await page.getByTestId('show-context').click();
    const ctx = page.getByTestId('context');
    await ctx.getByText('20 lines around').waitFor();
    const lines = await ctx.getByTestId('log-line').allInnerTexts();
    const orders = lines.map((l) => Number(/order=(\d+)/.exec(l)[1]));
    assert.deepEqual(orders, Array.from({ length: 21 }, (_, i) => 10 + i));
    assert.match(await ctx.locator('.row.hl').innerText(), /order=20 /);
    await shot(page, 'explore-context');
    await page.keyboard.press('Escape');
    await ctx.waitFor({ state: 'detached' });
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('live tail receives newly pushed lines within 2 s, and pauses', async () => {
    const { page, problems } = await open({ query: '{app="live"}', from: 'now-1h', to: 'now', live: '1' });
    await page.getByTestId('live-status').filter({ hasText: 'Live' }).waitFor();
    const token = `tail-${Math.random().toString(36).slice(2)}`;
    const t0 = Date.now();
    await push(server.base, [{ labels: { app: 'live', process_type: 'web' }, lines: [[Date.now(), `level=info hello ${token}`]] }]);
    await page.getByTestId('log-line').filter({ hasText: token }).waitFor({ timeout: 2000 });
    const latency = Date.now() - t0;
    assert.ok(latency <= 2000, `line arrived after ${latency} ms`);
    // Paused: new lines wait; resume shows them.
    await page.getByTestId('live-pause').click();
    await push(server.base, [{ labels: { app: 'live', process_type: 'web' }, lines: [[Date.now(), `level=warn second ${token}`]] }]);
    await page.getByTestId('live-pause').filter({ hasText: '1 new' }).waitFor({ timeout: 3000 });
    assert.equal(await page.getByTestId('log-line').filter({ hasText: `second ${token}` }).count(), 0);
    await page.getByTestId('live-pause').click();
    await page.getByTestId('log-line').filter({ hasText: `second ${token}` }).waitFor({ timeout: 2000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=live-rate]')?.textContent) > 0);
    // A tailed line opens like any other: detected_level is metadata, the context is its stream.
    await page.getByTestId('log-row').filter({ hasText: `hello ${token}` }).locator('.row-main').click();
    await page.getByTestId('field-meta-detected_level').waitFor();
    assert.equal(await page.getByTestId('field-stream-detected_level').count(), 0);
    await page.getByTestId('show-context').click();
    await page.getByTestId('context').getByText('1 lines around').waitFor();
    await page.keyboard.press('Escape');
    await shot(page, 'explore-live');
    // The buffer is bounded: 1,200 more lines leave the newest 1,000.
    for (let b = 0; b < 4; b++) {
      const t = Date.now();
      await push(server.base, [{ labels: { app: 'live', process_type: 'worker' }, lines: Array.from({ length: 300 }, (_, i) => [t, `level=debug burst ${b * 300 + i}`]) }]);
      await page.waitForTimeout(250);
    }
    await page.getByTestId('live-status').filter({ hasText: 'buffer 1000/1000' }).waitFor({ timeout: 5000 });
    await page.getByTestId('row-count').filter({ hasText: '1000 lines' }).waitFor();
    assert.match(await page.getByTestId('log-line').first().innerText(), /burst 1199$/);
    console.log(`live tail latency: ${latency} ms`);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('a metric query draws its chart and table', async () => {
    const q = 'sum by (process_type) (count_over_time({app="shop"}[5m]))';
    const { page, problems } = await open({ query: q, from: 'now-1h', to: 'now' });
    const chart = page.getByTestId('metric-chart');
    await chart.locator('canvas').waitFor();
    assert.equal(await chart.getAttribute('data-series'), '2');
    const rows = await page.getByTestId('metric-table').locator('tbody tr').allInnerTexts();
    assert.equal(rows.length, 2);
    assert.match(rows[0], /process_type="web"/);
    assert.match(rows[1], /process_type="worker"/);
    // Same numbers as the API gives.
    const api = await apiQuery(server.base, '/loki/api/v1/query_range', { query: q, start: `${now - 3600e3}000000`, end: `${Date.now()}000000`, step: '15s' });
    assert.equal(api.data.result.length, 2);
    const legend = await page.locator('.u-legend').innerText();
    assert.match(legend, /process_type="worker"/);
    // The tooltip appears on hover.
    const ob = await chart.locator('.u-over').boundingBox();
    await page.mouse.move(ob.x + ob.width * 0.95, ob.y + ob.height / 2);
    await page.locator('.chart-tip').waitFor();
    await shot(page, 'explore-metric');
    // The theme toggle redraws the chart in the other theme.
    const before = await page.evaluate(() => document.documentElement.dataset.theme);
    await page.getByTestId('theme-toggle').click();
    assert.notEqual(await page.evaluate(() => document.documentElement.dataset.theme), before);
    await chart.locator('canvas').waitFor();
    await shot(page, 'explore-metric-light');
    await page.getByTestId('theme-toggle').click();
    await page.evaluate(() => localStorage.removeItem('bitacora.theme')); // back to the system preference
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('shows a parse error in words at its position', async () => {
    const { page } = await open({ query: '{app="shop"} |= ', from: 'now-1h', to: 'now' });
    const err = page.getByTestId('error');
    await err.waitFor();
    assert.match(await err.innerText(), /parse error at line 1, col 17/);
    await page.locator('.cm-error-mark').waitFor();
    await shot(page, 'explore-error');
    await page.close();
  });

  it('builds a selector with the label browser and completes label names and values', async () => {
    const { page, problems } = await open({ from: 'now-1h', to: 'now' });
    await page.getByTestId('open-label-browser').click();
    await page.getByTestId('lb-label-app').click();
    await page.getByTestId('lb-value-app-blog').check();
    await page.getByTestId('lb-label-process_type').click();
    await page.getByTestId('lb-value-process_type-web').check();
    assert.equal(await page.getByTestId('lb-selector').innerText(), '{app="blog", process_type="web"}');
    await shot(page, 'explore-label-browser');
    await page.getByTestId('lb-run').click();
    await page.getByTestId('row-count').filter({ hasText: `${BLOG} lines` }).waitFor();
    // ANSI colours are rendered, not shown as escape codes.
    const line = page.getByTestId('log-line').first();
    assert.equal(await line.locator('span.af32').innerText(), 'GET');
    assert.doesNotMatch(await line.innerText(), /\[32m/);
    // Completion: label names after `{`, values after `=`.
    const ed = page.getByTestId('query-input');
    await ed.click();
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Delete');
    await page.keyboard.type('{');
    await page.locator('.cm-tooltip-autocomplete').getByText('process_type', { exact: true }).waitFor();
    await page.keyboard.type('app=');
    await page.locator('.cm-tooltip-autocomplete').getByText('"shop"').waitFor();
    await page.keyboard.press('Escape');
    await page.keyboard.type('"shop"} | ');
    await page.locator('.cm-tooltip-autocomplete').getByText('logfmt', { exact: true }).waitFor();
    await shot(page, 'explore-autocomplete');
    await page.locator('.cm-tooltip-autocomplete').getByText('logfmt', { exact: true }).click();
    await page.keyboard.press('Control+Enter');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('query') === '{app="shop"} | logfmt');
    await page.getByTestId('row-count').filter({ hasText: '60 lines' }).waitFor();
    // Field names come from a sample of the lines through the query's parser.
    await ed.click();
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Delete');
    await page.keyboard.type('sum(cou');
    await page.locator('.cm-tooltip-autocomplete').getByText('count_over_time', { exact: true }).waitFor();
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Delete');
    await page.keyboard.type('{app="shop", process_type="worker"} | json | ');
    await page.locator('.cm-tooltip-autocomplete').getByText('queue', { exact: true }).waitFor();
    await page.keyboard.type('que');
    await page.keyboard.press('Enter');
    assert.equal(await ed.innerText(), '{app="shop", process_type="worker"} | json | queue');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('is usable by keyboard: rows open with Enter and arrows move between them', async () => {
    const { page, problems } = await open({ query: '{app="shop", process_type="web"}', from: 'now-1h', to: 'now' });
    await page.getByTestId('row-count').filter({ hasText: `${SHOP_WEB} lines` }).waitFor();
    await page.getByTestId('log-row').first().focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.match(await page.evaluate(() => document.activeElement.textContent), /order=37 /);
    await page.keyboard.press('Enter');
    await page.getByTestId('field-stream-app').waitFor();
    assert.equal(await page.locator('[data-testid=log-row][aria-expanded=true]').count(), 1);
    await page.keyboard.press('Enter');
    await page.getByTestId('field-stream-app').waitFor({ state: 'detached' });
    // The time toggle hides timestamps; wrap wraps.
    await page.getByLabel('Time').uncheck();
    assert.equal(await page.locator('[data-testid=log-list] time.ts').count(), 0);
    await page.getByLabel('Wrap').check();
    assert.equal(await page.locator('[data-testid=log-list].wrap').count(), 1);
    // "/" jumps to the query editor.
    await page.getByTestId('log-row').first().focus();
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'query-input');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('applies an absolute RFC3339 range and keeps query history', async () => {
    const { page, problems } = await open({ query: '{app="blog"}', from: 'now-1h', to: 'now' });
    await page.getByTestId('row-count').filter({ hasText: `${BLOG} lines` }).waitFor();
    // A relative preset: blog lines are a minute apart, the newest 1 min 3 s old.
    await page.getByTestId('time-picker').click();
    await page.getByRole('button', { name: 'Last 5 minutes' }).click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('from') === 'now-5m');
    assert.match(await page.getByTestId('time-picker').innerText(), /Last 5 minutes/);
    await page.getByTestId('row-count').filter({ hasText: /^[1-5] lines/ }).waitFor();
    await page.getByTestId('time-picker').click();
    const from = new Date(now - 615_000).toISOString();
    await page.getByTestId('time-from').fill(from);
    await page.getByRole('button', { name: 'Apply range' }).click();
    await page.waitForFunction((f) => new URL(location.href).searchParams.get('from') === f, from);
    // Run another query: web lines in the last ~10 minutes are orders 20..39.
    const ed = page.getByTestId('query-input');
    await ed.click();
    await page.keyboard.press('Control+a');
    await page.keyboard.type('{app="shop", process_type="web"}');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Enter');
    await page.getByTestId('row-count').filter({ hasText: '20 lines' }).waitFor();
    await ed.click();
    await page.keyboard.press('Control+a');
    await page.keyboard.type('{app="blog"} |= "posts"');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Enter');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('query') === '{app="blog"} |= "posts"');
    await page.getByTestId('history').click();
    const items = await page.locator('.history-item').allInnerTexts();
    assert.deepEqual(items.slice(0, 2), ['{app="blog"} |= "posts"', '{app="shop", process_type="web"}']);
    await page.locator('.history-item').nth(1).click();
    assert.equal(await ed.innerText(), '{app="shop", process_type="web"}');
    await page.keyboard.press('Escape');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('downloads the result as NDJSON and CSV', async () => {
    const { page, problems } = await open({ query: '{app="shop", process_type="worker"}', from: 'now-1h', to: 'now' });
    await page.getByTestId('row-count').filter({ hasText: `${SHOP_WORKER} lines` }).waitFor();
    const [nd] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-ndjson').click()]);
    const text = await streamText(await nd.createReadStream());
    const objs = text.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(objs.length, SHOP_WORKER);
    assert.equal(objs[0].labels.process_type, 'worker');
    assert.match(objs[0].line, /queue slow/);
    assert.equal(objs[0].structuredMetadata.detected_level, 'warn');
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-csv').click()]);
    const rows = (await streamText(await csv.createReadStream())).trim().split('\n');
    assert.equal(rows[0], 'timestamp,ts_ns,level,labels,line');
    assert.equal(rows.length, SHOP_WORKER + 1);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('auto-refresh shows lines pushed after the page loaded', async () => {
    await push(server.base, [{ labels: { app: 'refresh' }, lines: [[Date.now() - 1000, 'first refresh line']] }]);
    const { page, problems } = await open({ query: '{app="refresh"}', from: 'now-1h', to: 'now', refresh: '5s' });
    await page.getByTestId('row-count').filter({ hasText: '1 lines' }).waitFor();
    await push(server.base, [{ labels: { app: 'refresh' }, lines: [[Date.now(), 'second refresh line']] }]);
    await page.getByTestId('log-line').filter({ hasText: 'second refresh line' }).waitFor({ timeout: 8000 });
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('underlines a syntax error while typing', async () => {
    const { page, problems } = await open({ from: 'now-1h', to: 'now' });
    await page.getByTestId('query-input').click();
    await page.keyboard.type('{app="shop"} |= ');
    await page.keyboard.press('Escape');
    await page.getByTestId('syntax-hint').waitFor();
    await page.locator('.cm-hint-mark').waitFor();
    await page.keyboard.type('"x"');
    await page.getByTestId('syntax-hint').waitFor({ state: 'detached' });
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('works on a 390 px phone in the light theme', async () => {
    const { page, problems } = await open({ query: '{app="shop"}', from: 'now-1h', to: 'now' }, { viewport: { width: 390, height: 844 }, colorScheme: 'light' });
    await page.getByTestId('row-count').filter({ hasText: '60 lines' }).waitFor();
    await page.getByTestId('histogram').locator('canvas').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
    await shot(page, 'explore-phone-light');
    assert.deepEqual(problems, []);
    await page.close();
  });
});

async function streamText(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}
