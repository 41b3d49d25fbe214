// The apps page and the container view against a real Docker engine: `bitacora run` (server and
// agent in one process) watches containers with Dokku's labels; the page must show a running,
// an exited and a crash-looping container as the engine sees them, and the container view must
// show stdout and stderr interleaved live, pause, search, CPU and memory, and a die event.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, launch, newPage, shot, waitFor, sleep } from './helpers.mjs';

const IMAGE = 'bitacora-test:busybox';
const tag = `bu13${process.pid}`;
const app = `${tag}shop`;
const names = { web: `${app}.web.1`, worker: `${app}.worker.1`, clock: `${app}.clock.1` };
// The deploy test's release image and the names Dokku's scheduler gives during a deploy.
const image2 = `bitacora-test:${tag}`;
const upcoming = `${names.web}.upcoming-4242`;
const retired = `${names.web}.1796163789`;

const docker = (...args) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
function dockerReady() {
  try {
    docker('image', 'inspect', IMAGE);
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error(`CI needs Docker with ${IMAGE}: run scripts/docker-setup.sh`);
    return false;
  }
}
const ready = dockerReady();

function run(proc, opts, script) {
  return docker(
    'run', '-d', '--name', `${app}.${proc}.1`,
    `--label=com.dokku.app-name=${app}`, `--label=com.dokku.process-type=${proc}`, '--label=com.dokku.container-type=deploy', `--label=com.dokku.dyno=${proc}.1`,
    ...opts, IMAGE, 'sh', '-c', script,
  );
}

let server, br;
const ids = {};

before(async () => {
  if (!ready) return;
  for (const n of Object.values(names)) {
    try {
      docker('rm', '-f', n);
    } catch {}
  }
  server = await startServer({ BITACORA_AGENT__INCLUDE_CONTAINERS: `${tag}.*`, BITACORA_AGENT__POLL_INTERVAL: '100ms' }, { mode: 'run' });
  // web: a line on stdout then one on stderr, every 300 ms, for ever.
  ids.web = run('web', ['--memory=64m'], 'i=0; while true; do echo "tick $i handled GET /cart"; echo "oops $i: slow upstream" >&2; i=$((i+1)); usleep 300000; done');
  // worker: does its job once and exits 3.
  ids.worker = run('worker', [], 'echo "job started"; echo "job failed: no input" >&2; exit 3');
  // clock: fails a second after each start; Docker restarts it (a crash loop).
  ids.clock = run('clock', ['--restart=on-failure'], 'echo "clock starting"; echo "fatal: config missing" >&2; sleep 1; exit 1');
  br = await launch();
});

after(async () => {
  await br?.close();
  await server?.stop();
  if (ready) for (const n of [...Object.values(names), upcoming, retired]) try { docker('rm', '-f', n); } catch {}
  if (ready) try { docker('rmi', '-f', image2); } catch {}
});

const row = (page, name) => page.locator(`[data-testid=container][data-name="${name}"]`);

describe('apps with a Docker engine', { skip: !ready && `no Docker engine with ${IMAGE}` }, () => {
  it('shows a running, an exited and a crash-looping container as the engine does', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(`${server.base}/apps?q=${app}`);
    const card = page.locator(`[data-testid=app][data-name="${app}"]`);
    await card.waitFor({ timeout: 30000 });
    // The page polls every 15 s; the clock container needs a few restarts first.
    await waitFor('the crash loop on the page', async () => {
      await page.reload();
      await row(page, names.clock).waitFor({ timeout: 10000 });
      const txt = await row(page, names.clock).getByTestId('restarts').innerText();
      return Number(/(\d+) restarts?/.exec(txt)?.[1]) >= 2;
    }, 60000);
    assert.equal(await page.getByTestId('no-engine').count(), 0, 'engine: true here');
    // web: running, with an uptime.
    const web = row(page, names.web);
    assert.equal(await web.getByTestId('state').getAttribute('data-state'), 'running');
    assert.match(await web.getByTestId('life').innerText(), /^up \d+/);
    assert.equal(await web.getAttribute('data-id'), ids.web.slice(0, 12));
    // worker: exited with its exit code.
    const worker = row(page, names.worker);
    assert.equal(await worker.getByTestId('state').getAttribute('data-state'), 'exited');
    assert.equal(await worker.getByTestId('exit').innerText(), 'exit 3');
    // clock: its restarts counted, and red (a crash loop), as is its app.
    const clock = row(page, names.clock);
    assert.ok(await clock.evaluate((e) => e.classList.contains('looping')), 'the crash loop stands out');
    assert.ok(await card.evaluate((e) => e.classList.contains('looping')));
    const api = await (await fetch(`${server.base}/api/apps`)).json();
    const apiClock = api.apps.find((a) => a.name === app).containers.find((c) => c.name === names.clock);
    assert.ok(apiClock.restart_count >= 2, `api restart_count ${apiClock.restart_count}`);
    // The uptime ticks.
    const up1 = await web.getByTestId('life').innerText();
    await sleep(2100);
    assert.notEqual(await web.getByTestId('life').innerText(), up1);
    // Sort by restarts works with the filter on.
    await page.getByLabel('Sort').selectOption('restarts');
    await shot(page, 'apps-docker');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('the container view: interleaved streams, pause, search, CPU and memory, a die event', async () => {
    const { page, problems } = await newPage(br.browser);
    await page.goto(`${server.base}/apps?q=${app}`);
    await row(page, names.web).getByTestId('container-link').click();
    await page.waitForURL((u) => u.pathname === `/apps/container/${ids.web.slice(0, 12)}`);
    assert.equal(await page.getByTestId('cv-name').innerText(), names.web);
    // Both streams, interleaved in time order, each line with its marker.
    await waitFor('lines of both streams', async () => (await page.locator('[data-testid=cv-line][data-stream=stderr]').count()) >= 3 && (await page.locator('[data-testid=cv-line][data-stream=stdout]').count()) >= 3);
    const seq = await page.getByTestId('cv-line').evaluateAll((els) => els.map((e) => [e.dataset.stream, e.querySelector('[data-testid=cv-stream]').textContent, e.querySelector('.cv-text').textContent]));
    for (const [stream, mark, text] of seq) {
      assert.equal(mark, stream === 'stderr' ? 'err' : 'out');
      assert.match(text, stream === 'stderr' ? /^oops \d+: slow upstream$/ : /^tick \d+ handled GET \/cart$/);
    }
    const switches = seq.slice(1).filter((s, i) => s[0] !== seq[i][0]).length;
    assert.ok(switches >= 3, `stdout and stderr interleave (${seq.map((s) => s[0]).join(' ')})`);
    // Live: new lines keep arriving.
    const n0 = await page.getByTestId('cv-line').count();
    await waitFor('live lines', async () => (await page.getByTestId('cv-line').count()) > n0 + 2, 15000);
    // Pause: lines wait and are counted; resume shows them.
    await page.getByTestId('cv-pause').click();
    const held = await page.getByTestId('cv-line').count();
    await waitFor('lines waiting', async () => Number(/(\d+) new line/.exec(await page.getByTestId('cv-waiting').innerText())?.[1]) >= 4, 15000);
    assert.equal(await page.getByTestId('cv-line').count(), held, 'nothing added while paused');
    await shot(page, 'container-paused');
    await page.getByTestId('cv-pause').click();
    await waitFor('held lines shown', async () => (await page.getByTestId('cv-line').count()) >= held + 4);
    // Search filters as one types, and marks the match.
    await page.getByTestId('cv-search').fill('oops 1');
    await waitFor('search applied', async () => {
      const texts = await page.getByTestId('cv-line').allInnerTexts();
      return texts.length > 0 && texts.every((t) => t.includes('oops 1'));
    });
    assert.ok((await page.locator('[data-testid=cv-line] mark').count()) >= 1);
    assert.equal(await page.locator('[data-testid=cv-line][data-stream=stdout]').count(), 0);
    await page.getByTestId('cv-search').fill('');
    // CPU and memory from the engine's stats, with the memory limit.
    await waitFor('cpu figure', async () => /^\d+(\.\d)? %$/.test(await page.getByTestId('cpu-value').innerText()), 20000);
    assert.match(await page.getByTestId('memory-value').innerText(), /^\d+(\.\d)? (B|KiB|MiB)$/);
    assert.match(await page.getByTestId('memory-limit').innerText(), /^of 64 MiB/);
    // Drawn live: the memory line grows a point every 2 s.
    const points = () => page.locator('[data-testid=memory] polyline[fill=none]').last().evaluate((e) => e.getAttribute('points').split(' ').length);
    await waitFor('memory chart of several samples', async () => (await points()) >= 6, 30000);
    assert.ok((await page.locator('[data-testid=cpu] polyline').count()) >= 1, 'the CPU chart is drawn');
    await shot(page, 'container-view');
    // docker kill: a die event row, and the header says exited.
    docker('kill', names.web);
    const die = page.locator('[data-testid=cv-event][data-event=die]');
    await die.waitFor({ timeout: 20000 });
    assert.match(await die.innerText(), /died exit 137/);
    await waitFor('exited in the header', async () => (await page.getByTestId('state').getAttribute('data-state')) === 'exited', 10000);
    assert.equal(await page.getByTestId('exit').innerText(), 'exit 137');
    await shot(page, 'container-died');
    // Back to the app.
    await page.getByTestId('cv-app-link').click();
    await page.waitForURL((u) => u.pathname === '/apps');
    await row(page, names.web).waitFor();
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('the container view follows the web dyno through a Dokku-style deploy', async () => {
    // The release: another image made from the test image; Dokku's scheduler starts it as
    // `<dyno>.upcoming-<n>` beside the old one, renames both and stops the old one.
    const base = docker('create', IMAGE, 'true');
    docker('commit', '--change', `LABEL release=${tag}`, base, image2);
    docker('rm', base);
    const { page, problems } = await newPage(br.browser);
    const oldId = ids.web.slice(0, 12);
    await page.goto(`${server.base}/apps/container/${oldId}`);
    await page.getByTestId('cv-line').nth(3).waitFor();
    const newId = docker(
      'run', '-d', '--name', upcoming,
      `--label=com.dokku.app-name=${app}`, '--label=com.dokku.process-type=web', '--label=com.dokku.container-type=deploy', '--label=com.dokku.dyno=web.1',
      image2, 'sh', '-c', 'i=0; while true; do echo "release two $i"; i=$((i+1)); usleep 300000; done',
    ).slice(0, 12);
    await sleep(1500);
    docker('rename', names.web, retired);
    docker('rename', upcoming, names.web);
    docker('stop', '-t', '1', retired);
    await page.waitForURL((u) => u.pathname === `/apps/container/${newId}`, { timeout: 60_000 });
    assert.match(await page.getByTestId('cv-followed').innerText(), new RegExp(`now following ${newId} \\(was ${oldId}\\)`));
    assert.equal(await page.getByTestId('cv-name').innerText(), names.web);
    await page.locator('[data-testid=cv-line]', { hasText: 'release two' }).first().waitFor({ timeout: 30_000 });
    assert.ok((await page.locator('[data-testid=cv-line]', { hasText: 'handled GET /cart' }).count()) > 0, 'the old container’s lines stay above');
    await page.locator('[data-testid=cv-event][data-event=deploy]').waitFor();
    assert.equal(await page.locator('[data-testid=cv-event][data-event=deploy]').count(), 1);
    await page.locator('.cv-facts').getByText(`id ${newId}`).waitFor();
    await shot(page, 'container-docker-deploy');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('both pages fit a 390 px phone', async () => {
    const { page, problems } = await newPage(br.browser, { viewport: { width: 390, height: 844 }, colorScheme: 'light' });
    await page.goto(`${server.base}/apps?q=${app}`);
    await row(page, names.worker).waitFor();
    const over = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok((await over()) <= 0, 'apps page wider than the phone');
    await shot(page, 'apps-docker-phone');
    await page.goto(`${server.base}/apps/container/${ids.worker.slice(0, 12)}`);
    await page.locator('[data-testid=cv-line][data-stream=stderr]').waitFor();
    assert.ok((await over()) <= 0, 'container view wider than the phone');
    await shot(page, 'container-phone');
    assert.deepEqual(problems, []);
    await page.close();
  });
});
