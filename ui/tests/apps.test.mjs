// The apps page and the container view in a real browser against a real server without a Docker
// engine (BITACORA_AGENT__DOCKER_HOST points nowhere): lines and Docker event lines are pushed as
// the agent ships them, so the page shows what recorded events say (engine: false): every app
// and container, lines and errors of the last hour, last error, last deploy, container states and
// restarts; search, sort, click-through to Explore and to the container view.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, push, launch, newPage, shot, waitFor } from './helpers.mjs';

let server, br;
const now = Date.now();
const NO_ENGINE = { BITACORA_AGENT__DOCKER_HOST: 'unix:///nonexistent/bitacora-test-docker.sock' };
const dokku = (app, proc, n = 1, stream = 'stdout') => ({ app, process_type: proc, container_type: 'deploy', dyno: `${proc}.${n}`, container_name: `${app}.${proc}.${n}`, stream, host: 'vm1' });
const lines = (count, make, spacing = 50_000) => Array.from({ length: count }, (_, i) => [now - (count - i) * spacing, make(i)]);
const ID = { web1: '1a1a1a1a1a1a', web2: '2b2b2b2b2b2b', worker1: '3c3c3c3c3c3c', old: '0f0f0f0f0f0f' };
const ev = (ms, fields) => [ms, Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(' ')];
const shopEvents = (proc) => ({ app: 'shop', process_type: proc, host: 'vm1', source: 'docker' });

// What is pushed, and so what the page must show.
const EXPECTED = {
  shop: { lines: 30 + 12 + 8, errors: 6 + 2, procs: ['web', 'worker'], lastError: 'charge failed for order 29' },
  blog: { lines: 15, errors: 0, procs: ['web'], lastError: null },
  'api-gateway': { lines: 20, errors: 20, procs: ['web'], lastError: 'upstream timeout 19' },
  postgres: { lines: 9, errors: 0, procs: [], lastError: null, kind: 'container' },
};

before(async () => {
  server = await startServer(NO_ENGINE);
  br = await launch();
  await push(server.base, [
    // shop/web.1: every fifth of 30 lines is an error (6); the last one is order 25, so the
    // newest error overall is the stderr line of web.2 below.
    { labels: dokku('shop', 'web', 1), meta: { container_id: ID.web1 }, lines: lines(30, (i) => (i % 5 === 0 ? `level=error msg="charge failed for order ${i}"` : `level=info msg="ok ${i}"`)) },
    { labels: dokku('shop', 'web', 2, 'stderr'), meta: { container_id: ID.web2 }, lines: [...lines(11, (i) => `level=info msg="warmup ${i}"`, 60_000), [now - 10_000, 'level=error msg="charge failed for order 29"']] },
    { labels: dokku('shop', 'worker', 1), meta: { container_id: ID.worker1 }, lines: lines(8, (i) => (i === 3 ? `{"level":"error","msg":"job ${i} crashed"}` : `{"level":"info","msg":"job ${i} done"}`), 200_000) },
    { labels: dokku('blog', 'web'), lines: lines(15, (i) => `GET /post/${i} 200`) },
    { labels: dokku('api-gateway', 'web'), lines: lines(20, (i) => `ERROR upstream timeout ${i}`, 90_000) },
    { labels: { container_name: 'postgres', stream: 'stdout', host: 'vm1', com_docker_compose_service: 'db' }, lines: lines(9, (i) => `LOG: checkpoint complete ${i}`) },
    // Docker events as the agent records them.
    {
      labels: shopEvents('web'),
      lines: [
        ev(now - 1_700_000, { event: 'create', container: 'shop.web.1', id: ID.web1, image: 'dokku/shop:latest' }),
        ev(now - 1_699_000, { event: 'start', container: 'shop.web.1', id: ID.web1, image: 'dokku/shop:latest' }),
        ev(now - 1_690_000, { event: 'deploy', container: 'shop.web.1', id: ID.web1, old_id: ID.old, image: 'dokku/shop:latest', image_id: 'abcdefabcdef', old_image: 'dokku/shop:latest', old_image_id: '123456123456', took: '8.2s' }),
        ev(now - 900_000, { event: 'start', container: 'shop.web.2', id: ID.web2, image: 'dokku/shop:latest' }),
        ev(now - 600_000, { event: 'die', container: 'shop.web.2', id: ID.web2, exit_code: 1, image: 'dokku/shop:latest' }),
        ev(now - 599_000, { event: 'start', container: 'shop.web.2', id: ID.web2, image: 'dokku/shop:latest' }),
        ev(now - 300_000, { event: 'die', container: 'shop.web.2', id: ID.web2, exit_code: 1, image: 'dokku/shop:latest' }),
        ev(now - 299_000, { event: 'start', container: 'shop.web.2', id: ID.web2, image: 'dokku/shop:latest' }),
        ev(now - 5_000, { event: 'die', container: 'shop.web.2', id: ID.web2, exit_code: 1, image: 'dokku/shop:latest' }),
      ],
    },
    {
      labels: shopEvents('worker'),
      lines: [
        ev(now - 1_700_000, { event: 'start', container: 'shop.worker.1', id: ID.worker1, image: 'dokku/shop:latest' }),
        ev(now - 60_000, { event: 'die', container: 'shop.worker.1', id: ID.worker1, exit_code: 137, oom: 'true', image: 'dokku/shop:latest' }),
      ],
    },
  ]);
});

after(async () => {
  await br?.close();
  await server?.stop();
});

const row = (page, name) => page.locator(`[data-testid=container][data-name="${name}"]`);

describe('apps from recorded events', () => {
  it('lists every app with its containers, counts, last deploy and last error', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(`${server.base}/`);
    const cards = page.getByTestId('app');
    await cards.nth(3).waitFor();
    assert.equal(await cards.count(), 4);
    await page.getByTestId('no-engine').getByText('recorded Docker events').waitFor();
    for (const [name, exp] of Object.entries(EXPECTED)) {
      const card = page.locator(`[data-testid=app][data-name="${name}"]`);
      assert.equal(await card.getAttribute('data-kind'), exp.kind ?? 'app', name);
      assert.equal(await card.getByTestId('lines-hour').innerText(), String(exp.lines), `${name} lines`);
      assert.equal(await card.getByTestId('errors-hour').innerText(), String(exp.errors), `${name} errors`);
      // Process types and containers come from the container state (here: recorded events).
      if (name === 'shop') assert.deepEqual(await card.locator('.app-procs .chip').allInnerTexts(), exp.procs, `${name} process types`);
      else assert.equal(await card.getByTestId('containers').innerText(), 'no container state recorded');
      const last = card.getByTestId('last-error');
      if (exp.lastError) await last.getByText(exp.lastError).waitFor();
      else await last.getByText('no recent errors').waitFor();
      assert.equal(await card.locator('.app-metric svg polyline').count(), 4, `${name} sparklines`);
    }
    // shop's containers as its events tell: web.1 running, web.2 died after two restarts,
    // worker.1 killed by the OOM killer.
    const shop = page.locator('[data-testid=app][data-name=shop]');
    assert.equal(await shop.getByTestId('containers').innerText(), '1/3 running');
    assert.equal(await row(page, 'shop.web.1').getByTestId('state').getAttribute('data-state'), 'running');
    assert.match(await row(page, 'shop.web.1').getByTestId('life').innerText(), /^up 2[89]m \d+s$/);
    assert.equal(await row(page, 'shop.web.1').getByTestId('restarts').innerText(), '0 restarts');
    assert.equal(await row(page, 'shop.web.2').getByTestId('state').getAttribute('data-state'), 'exited');
    assert.match(await row(page, 'shop.web.2').getByTestId('restarts').innerText(), /\b2 restarts$/);
    assert.equal(await row(page, 'shop.web.2').getByTestId('exit').innerText(), 'exit 1');
    assert.equal(await row(page, 'shop.worker.1').getByTestId('exit').innerText(), 'exit 137 (OOM)');
    assert.ok(await row(page, 'shop.worker.1').getByTestId('exit').evaluate((e) => e.classList.contains('bad')));
    // Last deploy: when, which image, how long.
    assert.match(await shop.getByTestId('last-deploy').innerText(), /^⇪ deployed 2[89] min ago · dokku\/shop:latest · took 8\.2 s · logs since then$/);
    await page.locator('[data-testid=app][data-name=blog]').getByTestId('last-deploy').getByText('no deploy recorded').waitFor();
    // Apps first, by name; then other containers.
    assert.deepEqual(await cards.evaluateAll((els) => els.map((e) => e.dataset.name)), ['api-gateway', 'blog', 'shop', 'postgres']);
    await shot(page, 'apps');
    await page.getByLabel('Sort').selectOption('errors');
    assert.deepEqual(await cards.evaluateAll((els) => els.map((e) => e.dataset.name)), ['api-gateway', 'shop', 'blog', 'postgres']);
    await page.getByLabel('Sort').selectOption('restarts');
    assert.equal(await cards.first().getAttribute('data-name'), 'shop');
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
    // The app's selector holds its lines and its Docker events (events are logs): 50 + 11.
    await page.getByTestId('row-count').filter({ hasText: `${EXPECTED.shop.lines + 11} lines` }).waitFor();
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('the container view interleaves its streams with its events, searches and pauses', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(`${server.base}/apps`);
    await row(page, 'shop.web.1').getByTestId('container-link').click();
    await page.waitForURL((u) => u.pathname === `/apps/container/${ID.web1}`);
    assert.equal(await page.getByTestId('cv-name').innerText(), 'shop.web.1');
    await page.getByTestId('cv-line').nth(29).waitFor();
    assert.equal(await page.getByTestId('cv-line').count(), 30, 'only this container id’s lines');
    // Its events, inline and in time order: created, started, deployed before its first line.
    const evs = page.getByTestId('cv-event');
    await evs.nth(2).waitFor();
    assert.deepEqual(await evs.evaluateAll((els) => els.map((e) => e.dataset.event)), ['create', 'start', 'deploy']);
    assert.match(await evs.nth(2).innerText(), /⇪\s*deployed dokku\/shop:latest \(abcdefabcdef\), replacing 0f0f0f0f0f0f, took 8\.2s/);
    const order = await page.locator('[data-testid=cv-log] > .cv-row').evaluateAll((els) => els.map((e) => e.dataset.event ?? e.dataset.stream));
    assert.deepEqual(order.slice(0, 4), ['create', 'start', 'deploy', 'stdout']);
    // No engine: no CPU and memory, said in words.
    await page.getByTestId('stats-note').waitFor();
    // A stderr line and a stdout line pushed now arrive live, in order, each with its marker.
    const t = Date.now();
    await push(server.base, [
      { labels: dokku('shop', 'web', 1), meta: { container_id: ID.web1 }, lines: [[t, 'live out 1'], [t + 2, 'live out 2']] },
      { labels: dokku('shop', 'web', 1, 'stderr'), meta: { container_id: ID.web1 }, lines: [[t + 1, 'live err: stack trace']] },
      { labels: dokku('shop', 'web', 2), meta: { container_id: ID.web2 }, lines: [[t, 'another container']] },
    ]);
    await page.getByTestId('cv-line').nth(32).waitFor();
    const tail = await page.getByTestId('cv-line').evaluateAll((els) => els.slice(-3).map((e) => [e.dataset.stream, e.querySelector('[data-testid=cv-stream]').textContent, e.querySelector('.cv-text').textContent]));
    assert.deepEqual(tail, [['stdout', 'out', 'live out 1'], ['stderr', 'err', 'live err: stack trace'], ['stdout', 'out', 'live out 2']]);
    // Pause: new lines wait, counted; resume shows them.
    await page.getByTestId('cv-pause').click();
    await push(server.base, [{ labels: dokku('shop', 'web', 1), meta: { container_id: ID.web1 }, lines: [[Date.now(), 'while paused 1'], [Date.now() + 1, 'while paused 2']] }]);
    await page.getByTestId('cv-waiting').getByText('2 new lines waiting').waitFor();
    assert.equal(await page.getByTestId('cv-line').count(), 33);
    assert.equal(await page.getByTestId('cv-pause').innerText(), 'Resume (2 new)');
    await shot(page, 'container-paused');
    await page.getByTestId('cv-pause').click();
    await page.getByTestId('cv-line').nth(34).waitFor();
    assert.equal(await page.getByTestId('cv-line').last().locator('.cv-text').innerText(), 'while paused 2');
    // Search filters as one types and marks the matches.
    await page.getByTestId('cv-search').fill('ORDER 1');
    await waitFor('filtered', async () => (await page.getByTestId('cv-line').count()) === 2);
    assert.deepEqual(await page.locator('[data-testid=cv-line] mark').allInnerTexts(), ['order 1', 'order 1']);
    assert.deepEqual(await page.getByTestId('cv-line').locator('.cv-text').allInnerTexts(), ['level=error msg="charge failed for order 10"', 'level=error msg="charge failed for order 15"']);
    await page.getByTestId('cv-search').fill('stack');
    await waitFor('filtered', async () => (await page.getByTestId('cv-line').count()) === 1);
    await page.getByTestId('cv-search').fill('');
    await page.getByTestId('cv-streams-stderr').click();
    assert.equal(await page.getByTestId('cv-line').count(), 1);
    await page.getByTestId('cv-streams-all').click();
    // Links: Explore with this container's lines, and back to the app.
    const explore = new URL(await page.getByTestId('cv-explore-link').getAttribute('href'), server.base);
    assert.equal(explore.searchParams.get('query'), `{container_name="shop.web.1", source!="docker"} | container_id="${ID.web1}"`);
    await page.getByTestId('cv-app-link').click();
    await page.waitForURL((u) => u.pathname === '/apps' && u.searchParams.get('q') === 'shop');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=app]').length === 1);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('a crash-looped container’s view shows its die events, and an unknown id says so', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(`${server.base}/apps/container/${ID.web2}`);
    const dies = page.locator('[data-testid=cv-event][data-event=die]');
    await dies.nth(2).waitFor();
    assert.match(await dies.first().innerText(), /✖\s*died exit 1$/);
    assert.ok(await dies.first().evaluate((e) => e.classList.contains('bad')));
    assert.equal(await page.getByTestId('state').getAttribute('data-state'), 'exited');
    await page.goto(`${server.base}/apps/container/deadbeef0000`);
    await page.getByTestId('error').getByText('No container deadbeef0000').waitFor();
    assert.deepEqual(problems.filter((p) => !p.includes('/api/apps/containers/deadbeef0000') && !p.includes('404')), []);
    await page.close();
  });

  it('the container view follows its dyno through a deploy; an old address leads to the new container; "logs since" the deploy', async () => {
    const NEWS = { old: '4d4d4d4d4d4d', new: '5e5e5e5e5e5e' };
    const newsEv = { app: 'news', process_type: 'web', host: 'vm1', source: 'docker' };
    const t0 = Date.now() - 120_000;
    await push(server.base, [
      { labels: dokku('news', 'web'), meta: { container_id: NEWS.old }, lines: [[t0 + 1000, 'old line 1'], [t0 + 2000, 'old line 2']] },
      { labels: newsEv, lines: [ev(t0, { event: 'create', container: 'news.web.1', id: NEWS.old, image: 'dokku/news:1' }), ev(t0 + 500, { event: 'start', container: 'news.web.1', id: NEWS.old, image: 'dokku/news:1' })] },
    ]);
    const { page, problems } = await newPage(br.browser);
    await page.goto(`${server.base}/apps/container/${NEWS.old}`);
    await page.getByTestId('cv-line').nth(1).waitFor();
    // Dokku's deploy as the agent records it: the new container starts beside the old one and
    // prints, the switch is one deploy event naming both, then the old one stops and goes
    // (stamped a few seconds back: the tail's history reaches up to now).
    const t = Date.now() - 5000;
    await push(server.base, [
      {
        labels: newsEv,
        lines: [
          ev(t, { event: 'create', container: 'news.web.1', id: NEWS.new, image: 'dokku/news:2' }),
          ev(t + 100, { event: 'start', container: 'news.web.1', id: NEWS.new, image: 'dokku/news:2' }),
          ev(t + 400, { event: 'deploy', container: 'news.web.1', id: NEWS.new, old_id: NEWS.old, image: 'dokku/news:2', image_id: 'a2a2a2a2a2a2', old_image: 'dokku/news:1', old_image_id: 'a1a1a1a1a1a1', took: '0.4s' }),
          ev(t + 500, { event: 'die', container: 'news.web.1', id: NEWS.old, exit_code: 0, image: 'dokku/news:1' }),
          ev(t + 600, { event: 'destroy', container: 'news.web.1', id: NEWS.old, image: 'dokku/news:1' }),
        ],
      },
      { labels: dokku('news', 'web'), meta: { container_id: NEWS.new }, lines: [[t + 200, 'new line 1'], [t + 700, 'new line 2']] },
    ]);
    await page.waitForURL((u) => u.pathname === `/apps/container/${NEWS.new}`);
    assert.match(await page.getByTestId('cv-followed').innerText(), new RegExp(`now following ${NEWS.new} \\(was ${NEWS.old}\\)`));
    await page.locator('.cv-facts').getByText(`id ${NEWS.new}`).waitFor();
    assert.equal(await page.getByTestId('cv-name').innerText(), 'news.web.1');
    await page.getByTestId('cv-line').nth(3).waitFor();
    assert.deepEqual(await page.getByTestId('cv-line').locator('.cv-text').allInnerTexts(), ['old line 1', 'old line 2', 'new line 1', 'new line 2']);
    assert.equal(await page.locator('[data-testid=cv-event][data-event=deploy]').count(), 1, 'the deploy once, though both containers’ events name it');
    await shot(page, 'container-followed-deploy');
    // A link to the old container, opened later, leads to the one that replaced it.
    await page.goto(`${server.base}/apps/container/${NEWS.old}`);
    await page.waitForURL((u) => u.pathname === `/apps/container/${NEWS.new}`);
    await page.getByTestId('cv-followed').waitFor();
    await page.getByTestId('cv-line').nth(1).waitFor();
    // The app card's "logs since" opens Explore from the deploy on: the new container's lines.
    await page.goto(`${server.base}/apps?q=news`);
    const since = page.locator('[data-testid=app][data-name=news]').getByTestId('since-deploy');
    assert.equal(new URL(await since.getAttribute('href'), server.base).searchParams.get('from'), String(t + 400));
    await since.click();
    await page.waitForURL((u) => u.pathname === '/explore');
    await page.getByText('new line 2').first().waitFor();
    assert.equal(await page.getByText('old line 1').count(), 0);
    assert.equal(await page.getByText('new line 1').count(), 0, 'before the switch');
    // The old address answers 404 (that is how the view learns it is gone); nothing else failed.
    assert.deepEqual(problems.filter((p) => !p.includes(`/api/apps/containers/${NEWS.old}`) && !p.includes('404')), []);
    await page.close();
  });

  it('works on a 390 px phone in the light theme', async () => {
    const { page, problems } = await newPage(br.browser, { viewport: { width: 390, height: 844 }, colorScheme: 'light' });
    await page.goto(`${server.base}/apps`);
    await page.getByTestId('app').nth(3).waitFor();
    await page.locator('[data-testid=app][data-name=postgres] [data-testid=last-error]').getByText('no recent errors').waitFor();
    const over = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok((await over()) <= 0, `apps page is ${await over()}px wider than the phone`);
    await shot(page, 'apps-phone-light');
    await page.goto(`${server.base}/apps/container/${ID.worker1}`);
    await page.getByTestId('cv-line').nth(7).waitFor();
    await page.locator('[data-testid=cv-event][data-event=die]').waitFor();
    assert.ok((await over()) <= 0, `container view is ${await over()}px wider than the phone`);
    await shot(page, 'container-phone-light');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('says in words that the server cannot be reached when it stops', async () => {
    const other = await startServer(NO_ENGINE);
    const { page } = await newPage(br.browser);
    await page.goto(`${other.base}/apps`);
    await page.locator('.hint').getByText('No apps yet').waitFor();
    await other.stop();
    await page.getByRole('button', { name: 'Refresh' }).click();
    const err = page.getByTestId('error');
    await err.waitFor();
    assert.match(await err.innerText(), /Cannot reach the Bitácora server/);
    await shot(page, 'apps-server-down');
    await page.close();
  });
});
