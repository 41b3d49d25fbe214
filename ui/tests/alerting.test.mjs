// The alerting page in a real Chromium against a real `bitacora server` evaluating rules every
// second: a rule made from an Explore query through the form (its chart and threshold), saved to
// the ruler, firing on pushed lines, its history lines, edited until it resolves, a rule the
// server refuses (its message shown), a silence created from the firing alert and expired, the
// receivers with a test notification to a real webhook receiver and to one that is down, the
// ready-made rules. Every tab is photographed in both themes into /tmp/shots-alerting.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { apiQuery, exploreUrl, launch, newPage, push, sleep, startServer, waitFor } from './helpers.mjs';

const SHOTS = process.env.ALERTING_SHOTS ?? '/tmp/shots-alerting';
const QUERY = 'sum(count_over_time({app="web"} |= "error" [1m]))';

/** A real HTTP receiver for webhook notifications: it keeps what it was sent. */
function webhookReceiver() {
  const got = [];
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      try {
        got.push(JSON.parse(body));
      } catch {
        got.push(body);
      }
      res.writeHead(200).end('ok');
    });
  });
  return new Promise((ok) => srv.listen(0, '127.0.0.1', () => ok({ url: `http://127.0.0.1:${srv.address().port}/hook`, got, close: () => new Promise((r) => srv.close(r)) })));
}

/** A port nothing listens on (bound, then closed). */
function deadPort() {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

const errorLines = (n, app = 'web') => ({ labels: { app }, lines: Array.from({ length: n }, (_, i) => [Date.now() - 20000 + i * 10, `level=error msg="upstream failed" n=${i}`]) });

describe('alerting page', () => {
  let server, br, hook, dir;
  // A rule group that does not exist yet answers 404 before its first save (the browser logs it too).
  const expectedHttp = [/HTTP 404 .*\/loki\/api\/v1\/rules\/[^/]+\/[^/]+$/, /console: Failed to load resource: the server responded with a status of 404/];
  const unexpected = (problems) => problems.filter((p) => !expectedHttp.some((re) => re.test(p)));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bitacora-alerting-ui-'));
    hook = await webhookReceiver();
    const dead = await deadPort();
    const am = join(dir, 'alertmanager.yml');
    writeFileSync(
      am,
      [
        'route:',
        '  receiver: hook',
        '  group_wait: 1s',
        '  group_interval: 1s',
        '  repeat_interval: 1h',
        'receivers:',
        '  - name: hook',
        '    webhook_configs:',
        `      - url: ${hook.url}`,
        '  - name: down',
        '    webhook_configs:',
        `      - url: http://127.0.0.1:${dead}/hook`,
      ].join('\n'),
    );
    server = await startServer({ BITACORA_RULER__EVALUATION_INTERVAL: '1s', BITACORA_ALERTING__ALERTMANAGER_CONFIG: am });
    br = await launch();
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await br?.close();
    await server?.stop();
    await hook?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const shots = async (page, name) => {
    for (const scheme of ['light', 'dark']) {
      // The page's own toggle, so charts redraw in the theme's colours.
      if ((await page.evaluate(() => document.documentElement.dataset.theme)) !== scheme) await page.click('[data-testid="theme-toggle"]');
      await sleep(200);
      await page.screenshot({ path: join(SHOTS, `${name}-${scheme}.png`), fullPage: true });
    }
  };

  it('loads the alerting code only on /alerting', async () => {
    const { page, problems } = await newPage(br.browser);
    const scripts = [];
    page.on('request', (r) => r.resourceType() === 'script' && scripts.push(new URL(r.url()).pathname));
    await page.goto(`${server.base}/apps`);
    await page.waitForSelector('nav[aria-label="Main"] a[href="/alerting"]');
    await sleep(500);
    assert.ok(!scripts.some((s) => /alerting/.test(s)), `no alerting chunk on /apps: ${scripts}`);
    await page.click('nav[aria-label="Main"] a[href="/alerting"]');
    await page.waitForSelector('[data-testid="tab-rules"][aria-current="page"]');
    assert.ok(scripts.some((s) => /\/assets\/alerting-[\w-]+\.js$/.test(s)), `the alerting chunk loads on /alerting: ${scripts}`);
    assert.equal(await page.getAttribute('nav[aria-label="Main"] a[href="/alerting"]', 'aria-current'), 'page');
    assert.deepEqual(unexpected(problems), []);
    await page.close();
  });

  it('makes a rule from an Explore query, sees it fire, its history, edits it until it resolves', async () => {
    await push(server.base, [errorLines(10)]);
    const { page, problems } = await newPage(br.browser);

    // Explore → "Alert on this query" opens the editor with the query.
    await page.goto(exploreUrl(server.base, { query: QUERY, from: 'now-1h', to: 'now' }));
    await page.waitForSelector('[data-testid="metric-chart"]');
    await page.click('[data-testid="alert-on-query"]');
    await page.waitForSelector('[data-testid="rule-editor"]');
    assert.equal(new URL(page.url()).pathname, '/alerting/new');
    assert.equal(new URL(page.url()).searchParams.get('expr'), QUERY);
    assert.equal(await page.textContent('[data-testid="rule-editor"] .cm-content'), QUERY);

    // The chart of the query over the last hours, with the threshold on it.
    await page.waitForSelector('[data-testid="rule-chart"][data-series="1"] canvas');
    await page.fill('[data-testid="rule-name"]', 'WebErrors');
    await page.selectOption('[data-testid="rule-op"]', '>');
    await page.fill('[data-testid="rule-threshold"]', '2');
    await page.waitForSelector('[data-testid="rule-chart"][data-threshold="2"] canvas');
    assert.equal(await page.textContent('[data-testid="rule-expr"]'), `${QUERY} > 2`);
    await page.fill('[data-testid="rule-namespace"]', 'web');
    await page.fill('[data-testid="rule-group"]', 'errors');
    await page.fill('[data-testid="rule-interval"]', '1s');
    await page.fill('[data-testid="rule-for"]', '2s');
    await page.click('[data-testid="rule-labels-add"]');
    await page.fill('[data-testid="rule-labels-name"]', 'severity');
    await page.fill('[data-testid="rule-labels-value"]', 'page');
    await page.fill('[data-testid="rule-summary"]', '{{ $labels.app }} logs {{ $value }} errors a minute');
    await shots(page, 'editor-new');
    await page.click('[data-testid="save-rule"]');
    await page.waitForURL((u) => u.pathname === '/alerting');

    // What the ruler keeps is exactly what the form said.
    const r = await fetch(`${server.base}/loki/api/v1/rules/web/errors`);
    assert.equal(r.status, 200);
    const g = parse(await r.text());
    assert.equal(g.name, 'errors');
    assert.equal(g.interval, '1s');
    assert.equal(g.rules.length, 1);
    assert.deepEqual(g.rules[0], { alert: 'WebErrors', expr: `${QUERY} > 2`, for: '2s', labels: { severity: 'page' }, annotations: { summary: '{{ $labels.app }} logs {{ $value }} errors a minute' } });

    // Listed with its state; firing on the pushed lines after `for`.
    const rule = page.locator('[data-testid="rule"][data-rule="WebErrors"]');
    await rule.waitFor();
    assert.equal(await page.getAttribute('[data-testid="namespace"]', 'data-namespace'), 'web');
    await waitFor('the rule to fire in the page', async () => {
      await push(server.base, [errorLines(5)]);
      return (await rule.getAttribute('data-state')) === 'firing';
    });
    const api = await apiQuery(server.base, '/prometheus/api/v1/rules', {});
    const apiRule = api.data.groups.find((x) => x.name === 'errors').rules[0];
    assert.equal(apiRule.health, 'ok');
    assert.equal(await rule.getAttribute('data-health'), 'ok');
    const alertRow = rule.locator('[data-testid="alert"]').first();
    assert.equal(await alertRow.getAttribute('data-state'), 'firing');
    assert.match(await alertRow.textContent(), /severity=page/);
    assert.match(await rule.locator('[data-testid="rule-last-eval"]').textContent(), /ago|just now/);
    const shown = Number(await alertRow.locator('[data-testid="alert-value"]').textContent());
    assert.ok(shown > 2, `the alert's value ${shown} is above the threshold`);
    // The state filter: firing shows it, inactive does not.
    await page.click('[data-testid="filter-inactive"]');
    await page.waitForSelector('[data-testid="rule"][data-rule="WebErrors"]', { state: 'detached' });
    await page.click('[data-testid="filter-firing"]');
    await rule.waitFor();
    await page.click('[data-testid="filter-all"]');
    await shots(page, 'rules-firing');

    // The notification's link (its alert's generatorURL) opens this page on that rule.
    const note = await waitFor('a notification with a link', async () => hook.got.find((b) => b?.alerts?.[0]?.labels?.alertname === 'WebErrors'));
    const link = new URL(note.alerts[0].generatorURL);
    assert.equal(link.pathname, '/alerting');
    assert.equal(link.searchParams.get('rule'), 'WebErrors');
    await page.goto(`${server.base}${link.pathname}${link.search}`);
    await rule.waitFor();
    assert.equal(await page.inputValue('input[aria-label="Search rules"]'), 'WebErrors');

    // History: the state changes, newest first, as the store holds them.
    await page.click('[data-testid="tab-history"]');
    await page.fill('[data-testid="history-alertname"]', 'WebErrors');
    await page.click('[data-testid="history-refresh"]');
    await page.waitForSelector('[data-testid="transition"][data-state="firing"]');
    const states = await page.$$eval('[data-testid="transition"]', (rs) => rs.map((r) => r.dataset.state));
    const lines = await apiQuery(server.base, '/loki/api/v1/query_range', { query: '{app="bitacora", source="alerts", alertname="WebErrors"}', start: `${Date.now() - 86400e3}000000`, end: `${Date.now()}000000`, direction: 'backward', limit: '1000' });
    const fromStore = lines.data.result
      .flatMap((s) => s.values)
      .sort((a, b) => (a[0] < b[0] ? 1 : -1))
      .map((v) => JSON.parse(v[1]).state);
    assert.deepEqual(states, fromStore);
    assert.equal(states[0], 'firing');
    assert.ok(states.includes('pending'), `pending came before firing: ${states}`);
    await shots(page, 'history');

    // Edit: the expr is split back into query, comparison and threshold; a higher threshold resolves it.
    await page.click('[data-testid="tab-rules"]');
    await rule.locator('[data-testid="edit-rule"]').click();
    await page.waitForURL((u) => u.pathname === '/alerting/edit/web/errors/WebErrors');
    await page.waitForSelector('[data-testid="rule-name"]');
    await waitFor('the rule to load', async () => (await page.inputValue('[data-testid="rule-name"]')) === 'WebErrors');
    assert.equal(await page.textContent('[data-testid="rule-editor"] .cm-content'), QUERY);
    assert.equal(await page.inputValue('[data-testid="rule-op"]'), '>');
    assert.equal(await page.inputValue('[data-testid="rule-threshold"]'), '2');
    assert.equal(await page.inputValue('[data-testid="rule-for"]'), '2s');
    await page.fill('[data-testid="rule-threshold"]', '100000');
    await shots(page, 'editor-edit');
    await page.click('[data-testid="save-rule"]');
    await page.waitForURL((u) => u.pathname === '/alerting');
    const g2 = parse(await (await fetch(`${server.base}/loki/api/v1/rules/web/errors`)).text());
    assert.equal(g2.rules.length, 1);
    assert.equal(g2.rules[0].expr, `${QUERY} > 100000`);
    await waitFor('the rule to resolve in the page', async () => (await rule.getAttribute('data-state')) === 'inactive');
    assert.deepEqual(unexpected(problems), []);
    await page.close();
  });

  it('shows the server refusing a rule, with its message', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(`${server.base}/alerting/new`);
    await page.waitForSelector('[data-testid="rule-editor"] .cm-content');
    const bad = 'sum(count_over_time({app="web"} |= [1m]))';
    await page.click('[data-testid="rule-editor"] .cm-content');
    await page.keyboard.insertText(bad);
    await page.fill('[data-testid="rule-name"]', 'Broken');
    await page.fill('[data-testid="rule-namespace"]', 'web');
    await page.fill('[data-testid="rule-group"]', 'broken');
    await page.fill('[data-testid="rule-threshold"]', '1');
    await page.click('[data-testid="save-rule"]');
    const err = await page.waitForSelector('[data-testid="save-error"]');
    // The same group posted directly: the page shows the server's own words.
    const direct = await fetch(`${server.base}/loki/api/v1/rules/web`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: `name: broken\nrules:\n  - alert: Broken\n    expr: '${bad} > 1'\n    for: 5m\n` });
    assert.equal(direct.status, 400);
    const msg = (await direct.text()).trim();
    assert.ok(msg.length > 0);
    assert.ok((await err.textContent()).includes(msg), `"${await err.textContent()}" shows "${msg}"`);
    assert.equal(new URL(page.url()).pathname, '/alerting/new');
    // The position the server names is marked in the query: `[1m]`, where a string was expected.
    const pos = /line \d+, col (\d+)/.exec(msg);
    assert.ok(pos, msg);
    assert.equal(await page.textContent('[data-testid="rule-editor"] .cm-error-mark'), bad.slice(Number(pos[1]) - 1).split(/\s/)[0]);
    assert.equal((await fetch(`${server.base}/loki/api/v1/rules/web/broken`)).status, 404);
    await shots(page, 'editor-refused');
    assert.deepEqual(
      problems.filter((p) => !/HTTP (400|404) .*\/loki\/api\/v1\/rules\/web/.test(p) && !/console: Failed to load resource/.test(p)),
      [],
    );
    await page.close();
  });

  it('silences the firing alert from its row and expires the silence', async () => {
    // Fire again: a low threshold on the same rule.
    const g = parse(await (await fetch(`${server.base}/loki/api/v1/rules/web/errors`)).text());
    g.rules[0].expr = `${QUERY} > 0`;
    g.rules[0].for = '0s';
    const { stringify } = await import('yaml');
    const r = await fetch(`${server.base}/loki/api/v1/rules/web`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: stringify(g) });
    assert.ok(r.ok, `${r.status} ${await r.text()}`);
    const { page, problems } = await newPage(br.browser, { colorScheme: 'light' });
    await page.goto(`${server.base}/alerting?state=firing`);
    const rule = page.locator('[data-testid="rule"][data-rule="WebErrors"]');
    await waitFor('the rule to fire again', async () => {
      await push(server.base, [errorLines(3)]);
      await page.reload();
      await rule.waitFor({ timeout: 3000 });
      return (await rule.getAttribute('data-state')) === 'firing';
    });
    const labels = await (async () => {
      const a = await apiQuery(server.base, '/prometheus/api/v1/alerts', {});
      return a.data.alerts.find((x) => x.labels.alertname === 'WebErrors').labels;
    })();
    await rule.locator('[data-testid="silence-alert"]').first().click();
    await page.waitForURL((u) => u.pathname === '/alerting/silences');
    await page.waitForSelector('[data-testid="silence-form"]');
    const names = await page.$$eval('[data-testid="matcher-name"]', (xs) => xs.map((x) => x.value));
    const values = await page.$$eval('[data-testid="matcher-value"]', (xs) => xs.map((x) => x.value));
    assert.deepEqual(Object.fromEntries(names.map((n, i) => [n, values[i]])), labels);
    await page.fill('[data-testid="silence-duration"]', '1h');
    await page.fill('[data-testid="silence-comment"]', 'looking into it');
    await page.click('[data-testid="create-silence"]');
    const row = page.locator('[data-testid="silence"][data-state="active"]');
    await row.waitFor();
    const list = await apiQuery(server.base, '/api/v2/silences', {});
    const mine = list.find((s) => s.comment === 'looking into it');
    assert.ok(mine, 'the silence is in the API');
    assert.equal(mine.status.state, 'active');
    assert.equal(await row.getAttribute('data-silence-id'), mine.id);
    assert.deepEqual(Object.fromEntries(mine.matchers.map((m) => [m.name, m.value])), labels);
    assert.ok(Math.abs(Date.parse(mine.endsAt) - Date.parse(mine.startsAt) - 3600e3) < 5000, 'one hour');
    await shots(page, 'silences');
    await row.locator('[data-testid="expire-silence"]').click();
    await page.waitForSelector(`[data-silence-id="${mine.id}"]`, { state: 'detached' });
    await page.check('[data-testid="show-expired"]');
    await page.waitForSelector(`[data-silence-id="${mine.id}"][data-state="expired"]`);
    const after = (await apiQuery(server.base, '/api/v2/silences', {})).find((s) => s.id === mine.id);
    assert.equal(after.status.state, 'expired');
    await shots(page, 'silences-expired');
    assert.deepEqual(unexpected(problems), []);
    await page.close();
  });

  it('lists the receivers and sends test notifications', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(`${server.base}/alerting/receivers`);
    const ok = page.locator('[data-testid="receiver"][data-receiver="hook"]');
    await ok.waitFor();
    assert.match(await ok.locator('[data-testid="integration"]').first().textContent(), new RegExp(hook.url.replace(/[.]/g, '\\.')));
    const before = hook.got.length;
    await ok.locator('[data-testid="test-receiver"]').click();
    const res = await ok.locator('[data-testid="test-result"]').first();
    await res.waitFor();
    assert.equal(await res.getAttribute('data-ok'), 'true', await res.textContent());
    await waitFor('the webhook to receive the test', () => hook.got.length > before, 10000);
    // The receiver that is down: the server's 502 and its error.
    const down = page.locator('[data-testid="receiver"][data-receiver="down"]');
    await down.locator('[data-testid="test-receiver"]').click();
    const bad = down.locator('[data-testid="test-result"]');
    await bad.waitFor();
    assert.equal(await bad.getAttribute('data-ok'), 'false');
    assert.match(await bad.textContent(), /refused|connect|error|fail/i);
    await shots(page, 'receivers');
    assert.deepEqual(
      problems.filter((p) => !/HTTP 502 .*\/receivers\/down\/test/.test(p) && !/console: Failed to load resource/.test(p)),
      [],
    );
    await page.close();
  });

  it('installs the ready-made rules', async () => {
    const templates = await apiQuery(server.base, '/api/alerting/templates', {});
    assert.ok(Array.isArray(templates) && templates.length > 0, 'the server offers ready-made rules');
    const { page, problems } = await newPage(br.browser);
    await page.goto(`${server.base}/alerting`);
    await page.click('[data-testid="templates-toggle"]');
    const t = page.locator(`[data-testid="template"][data-template="${templates[0].name}"]`);
    await t.locator('[data-testid="install-template"]').click();
    const res = t.locator('[data-testid="template-result"]');
    await res.waitFor();
    assert.doesNotMatch(await res.getAttribute('class'), /error/, await res.textContent());
    await t.locator('[data-testid="template-installed"]').waitFor();
    const ns = templates[0].namespace;
    const rules = await apiQuery(server.base, '/prometheus/api/v1/rules', {});
    assert.ok(rules.data.groups.some((g) => g.file === ns), `groups of namespace ${ns} are loaded`);
    await page.waitForSelector(`[data-testid="namespace"][data-namespace="${ns}"]`);
    await shots(page, 'rules-templates');
    assert.deepEqual(unexpected(problems), []);
    await page.close();
  });

  it('deletes a rule', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(`${server.base}/alerting`);
    const rule = page.locator('[data-testid="rule"][data-rule="WebErrors"]');
    await rule.locator('[data-testid="delete-rule"]').click();
    await rule.locator('[data-testid="confirm-delete-rule"]').click();
    await page.waitForSelector('[data-testid="rule"][data-rule="WebErrors"]', { state: 'detached' });
    assert.equal((await fetch(`${server.base}/loki/api/v1/rules/web/errors`)).status, 404);
    // An edit link whose names hold dots is still the page (not taken for a file), and says what is missing.
    await page.goto(`${server.base}/alerting/edit/web.rules/errors/Web.Errors`);
    assert.match(await (await page.waitForSelector('[data-testid="load-error"]')).textContent(), /no group errors in namespace web\.rules/);
    assert.deepEqual(unexpected(problems), []);
    await page.close();
  });
});
