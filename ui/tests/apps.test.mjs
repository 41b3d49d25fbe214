// The apps page in a real browser against a real server: every app and container with its
// process types, containers, lines and errors of the last hour, last error; search; click-through.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, push, launch, newPage, shot } from './helpers.mjs';

let server, br;
const now = Date.now();
const dokku = (app, proc, n = 1, stream = 'stdout') => ({ app, process_type: proc, container_type: 'deploy', dyno: `${proc}.${n}`, container_name: `${app}.${proc}.${n}`, stream, host: 'vm1' });
const lines = (count, make, spacing = 50_000) => Array.from({ length: count }, (_, i) => [now - (count - i) * spacing, make(i)]);

// What is pushed, and so what the page must show.
const EXPECTED = {
  shop: { lines: 30 + 12 + 8, errors: 6 + 2, procs: ['web', 'worker'], containers: 3, lastError: 'charge failed for order 29' },
  blog: { lines: 15, errors: 0, procs: ['web'], containers: 1, lastError: null },
  'api-gateway': { lines: 20, errors: 20, procs: ['web'], containers: 1, lastError: 'upstream timeout 19' },
  postgres: { lines: 9, errors: 0, procs: [], containers: 1, lastError: null, kind: 'container' },
};

before(async () => {
  server = await startServer();
  br = await launch();
  await push(server.base, [
    // shop/web.1: every fifth of 30 lines is an error (6); the last one is order 25, so the
    // newest error overall is the stderr line of web.2 below.
    { labels: dokku('shop', 'web', 1), lines: lines(30, (i) => (i % 5 === 0 ? `level=error msg="charge failed for order ${i}"` : `level=info msg="ok ${i}"`)) },
    { labels: dokku('shop', 'web', 2, 'stderr'), lines: [...lines(11, (i) => `level=info msg="warmup ${i}"`, 60_000), [now - 10_000, 'level=error msg="charge failed for order 29"']] },
    { labels: dokku('shop', 'worker', 1), lines: lines(8, (i) => (i === 3 ? `{"level":"error","msg":"job ${i} crashed"}` : `{"level":"info","msg":"job ${i} done"}`), 200_000) },
    { labels: dokku('blog', 'web'), lines: lines(15, (i) => `GET /post/${i} 200`) },
    { labels: dokku('api-gateway', 'web'), lines: lines(20, (i) => `ERROR upstream timeout ${i}`, 90_000) },
    { labels: { container_name: 'postgres', stream: 'stdout', host: 'vm1', com_docker_compose_service: 'db' }, lines: lines(9, (i) => `LOG: checkpoint complete ${i}`) },
  ]);
});

after(async () => {
  await br?.close();
  await server?.stop();
});

describe('apps', () => {
  it('lists every app and container with its process types, counts and last error', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(`${server.base}/`);
    const cards = page.getByTestId('app');
    await cards.nth(3).waitFor();
    assert.equal(await cards.count(), 4);
    for (const [name, exp] of Object.entries(EXPECTED)) {
      const card = page.locator(`[data-testid=app][data-name="${name}"]`);
      assert.equal(await card.getAttribute('data-kind'), exp.kind ?? 'app', name);
      assert.equal(await card.getByTestId('lines-hour').innerText(), String(exp.lines), `${name} lines`);
      assert.equal(await card.getByTestId('errors-hour').innerText(), String(exp.errors), `${name} errors`);
      const procs = await card.locator('.app-procs .chip').allInnerTexts();
      assert.deepEqual(procs, exp.procs, `${name} process types`);
      const ctrs = await card.getByTestId('containers').innerText();
      assert.match(ctrs, new RegExp(`^${exp.containers} containers?: `));
      if (exp.kind !== 'container') for (const p of exp.procs) assert.match(ctrs, new RegExp(`${name}\\.${p}\\.1`));
      const last = card.getByTestId('last-error');
      if (exp.lastError) await last.getByText(exp.lastError).waitFor();
      else await last.getByText('no errors in 24 h').waitFor();
      assert.equal(await card.locator('svg polyline').count(), 4, `${name} sparklines`);
    }
    // Apps first, by name; then other containers.
    assert.deepEqual(await cards.evaluateAll((els) => els.map((e) => e.dataset.name)), ['api-gateway', 'blog', 'shop', 'postgres']);
    await shot(page, 'apps');
    // Most errors first.
    await page.getByLabel('Sort').selectOption('errors');
    assert.deepEqual(await cards.evaluateAll((els) => els.map((e) => e.dataset.name)), ['api-gateway', 'shop', 'blog', 'postgres']);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('filters the list with the search box and opens Explore on an app in one click', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(`${server.base}/apps`);
    await page.getByTestId('app').nth(3).waitFor();
    await page.getByTestId('apps-search').fill('worker');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=app]').length === 1);
    assert.equal(await page.getByTestId('app').getAttribute('data-name'), 'shop');
    await page.getByTestId('apps-search').fill('post');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=app]').length === 1);
    assert.equal(await page.getByTestId('app').getAttribute('data-name'), 'postgres');
    await page.getByTestId('apps-search').fill('');
    await page.locator('[data-testid=app][data-name=shop]').getByTestId('app-link').click();
    await page.waitForURL((u) => u.pathname === '/explore');
    assert.equal(new URL(page.url()).searchParams.get('query'), '{app="shop"}');
    await page.getByTestId('row-count').filter({ hasText: `${EXPECTED.shop.lines} lines` }).waitFor();
    await page.getByTestId('histogram').locator('canvas').waitFor();
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('works on a 390 px phone in the light theme, and says so when the server is unreachable', async () => {
    const { page, problems } = await newPage(br.browser, { viewport: { width: 390, height: 844 }, colorScheme: 'light' });
    await page.goto(`${server.base}/apps`);
    await page.getByTestId('app').nth(3).waitFor();
    await page.locator('[data-testid=app][data-name=postgres] [data-testid=last-error]').getByText('no errors').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
    await shot(page, 'apps-phone-light');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('says in words that the server cannot be reached when it stops', async () => {
    const other = await startServer();
    const { page } = await newPage(br.browser);
    await page.goto(`${other.base}/apps`);
    await page.locator('.hint').getByText('No logs yet').waitFor();
    await other.stop();
    await page.getByRole('button', { name: 'Refresh' }).click();
    const err = page.getByTestId('error');
    await err.waitFor();
    assert.match(await err.innerText(), /Cannot reach the Bitácora server/);
    await shot(page, 'apps-server-down');
    await page.close();
  });
});
