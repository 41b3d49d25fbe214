// The log list's label tags and stream marks, and context across a container's streams, in a real
// Chromium against a real server: container lines pushed with Dokku's labels and the agent's
// `container_id` structured metadata, stdout and stderr of one worker, a web dyno beside it.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, launch, newPage, shot, shotDir, exploreUrl } from './helpers.mjs';

const SHOTS13 = process.env.SHOTS13 ?? '/work/shots13';
let server, br;
const now = Date.now();
const ns = (ms, i = 0) => `${BigInt(Math.round(ms)) * 1000000n + BigInt(i)}`;
const dokku = (proc, n, stream) => ({ app: 'jobs', process_type: proc, container_type: 'deploy', dyno: `${proc}.${n}`, container_name: `jobs.${proc}.${n}`, stream, host: 'vm1' });
const T = now - 10 * 60e3; // the failed job

before(async () => {
  mkdirSync(SHOTS13, { recursive: true });
  server = await startServer();
  br = await launch();
  const meta = (id) => ({ container_id: id });
  const body = {
    streams: [
      {
        stream: dokku('worker', 1, 'stdout'),
        values: [
          [ns(T - 2000), 'level=info msg="job 7 started"', meta('3f2a9c1b7d4e')],
          [ns(T + 50), 'level=info msg="job 7 failed"', meta('3f2a9c1b7d4e')],
          [ns(T + 5000), 'level=info msg="job 8 started"', meta('3f2a9c1b7d4e')],
        ],
      },
      {
        stream: dokku('worker', 1, 'stderr'),
        values: [
          [ns(T), 'Traceback (most recent call last):', meta('3f2a9c1b7d4e')],
          [ns(T + 10), '  File "/app/jobs.py", line 42, in run', meta('3f2a9c1b7d4e')],
          [ns(T + 20), 'ZeroDivisionError: division by zero', meta('3f2a9c1b7d4e')],
        ],
      },
      { stream: dokku('web', 1, 'stdout'), values: [[ns(T - 1000), 'level=info msg="GET /health 200"', meta('9e8d7c6b5a41')]] },
      // Another container of the same app: never in the worker's context.
      { stream: dokku('worker', 2, 'stderr'), values: [[ns(T + 30), 'level=error msg="other worker"', meta('123456789abc')]] },
    ],
  };
  const r = await fetch(`${server.base}/loki/api/v1/push`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(r.status, 204, await r.text());
});

after(async () => {
  await br?.close();
  await server?.stop();
});

const keep = (name) => copyFileSync(join(shotDir, `${name}.png`), join(SHOTS13, `${name}.png`));

async function open(params, lines = 8) {
  const { page, problems } = await newPage(br.browser);
  await page.goto(exploreUrl(server.base, params));
  await page.getByTestId('row-count').filter({ hasText: `${lines} lines` }).waitFor();
  return { page, problems };
}

const rowByText = (page, text) => page.getByTestId('log-list').getByTestId('log-row').filter({ hasText: text });

describe('label tags and streams', () => {
  it('offers the labels that differ between lines, shows the chosen ones as tags, remembers them', async () => {
    const { page, problems } = await open({ query: '{app="jobs"}', from: 'now-1h', to: 'now' });
    await page.getByTestId('tags-open').click();
    const pop = page.getByTestId('tags-pop');
    await pop.waitFor();
    const offered = (await pop.locator('input[type=checkbox]').evaluateAll((els) => els.map((e) => e.dataset.testid.replace('tag-choice-', '')))).sort();
    // app, host and container_type are the same on every line: not offered.
    assert.deepEqual(offered, ['container_id', 'container_name', 'dyno', 'process_type', 'stream']);
    await pop.getByTestId('tag-choice-container_name').check();
    await pop.getByTestId('tag-choice-container_id').check();
    await page.keyboard.press('Escape');
    const failed = rowByText(page, 'job 7 failed');
    await failed.getByTestId('log-tag').nth(1).waitFor();
    assert.deepEqual(await failed.getByTestId('log-tag').allInnerTexts(), ['jobs.worker.1', '3f2a9c1b7d4e']);
    assert.deepEqual(await rowByText(page, 'GET /health').getByTestId('log-tag').allInnerTexts(), ['jobs.web.1', '9e8d7c6b5a41']);
    // The tags come before the line's text.
    const [tagBox, lineBox] = [await failed.getByTestId('log-tag').first().boundingBox(), await failed.getByTestId('log-line').boundingBox()];
    assert.ok(tagBox.x < lineBox.x);
    // stderr lines carry a mark, stdout lines none.
    assert.equal(await rowByText(page, 'ZeroDivisionError').getByTestId('stderr-mark').count(), 1);
    assert.equal(await rowByText(page, 'ZeroDivisionError').getAttribute('data-stream'), 'stderr');
    assert.equal(await failed.getByTestId('stderr-mark').count(), 0);
    assert.equal(await page.getByTestId('log-list').getByTestId('stderr-mark').count(), 4);
    await shot(page, 'log-tags');
    keep('log-tags');
    // Remembered across a reload.
    await page.reload();
    await page.getByTestId('row-count').filter({ hasText: '8 lines' }).waitFor();
    await rowByText(page, 'job 7 failed').getByTestId('log-tag').nth(1).waitFor();
    assert.equal(await page.getByTestId('tags-open').innerText(), 'Labels on lines (2)');
    // Choosing `stream` shows it as a tag (the stderr one marked) instead of the separate mark.
    await page.getByTestId('tags-open').click();
    await page.getByTestId('tag-choice-stream').check();
    await rowByText(page, 'ZeroDivisionError').locator('[data-testid=log-tag][data-name=stream]').filter({ hasText: 'stderr' }).waitFor();
    assert.equal(await page.getByTestId('log-list').getByTestId('stderr-mark').count(), 0);
    await page.getByTestId('tag-choice-stream').uncheck();
    await page.getByTestId('tag-choice-container_id').uncheck();
    assert.deepEqual(await page.evaluate(() => JSON.parse(localStorage.getItem('bitacora.logTags'))), ['container_name']);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('context can span all streams of the container: a stdout failure shows its stderr trace', async () => {
    const { page, problems } = await open({ query: '{app="jobs", stream="stdout"}', from: 'now-1h', to: 'now' }, 4);
    await rowByText(page, 'job 7 failed').locator('.row-main').click();
    await page.getByTestId('show-context').click();
    const ctx = page.getByTestId('context');
    const list = ctx.getByTestId('context-list');
    await ctx.getByText('in the same stream').waitFor();
    assert.deepEqual(await list.getByTestId('log-line').allInnerTexts(), ['level=info msg="job 7 started"', 'level=info msg="job 7 failed"', 'level=info msg="job 8 started"']);
    assert.match(await ctx.getByTestId('context-selector').innerText(), /stream="stdout"/);
    await ctx.getByTestId('context-all-streams').check();
    await ctx.getByText('in all streams of this container').waitFor();
    const sel = await ctx.getByTestId('context-selector').innerText();
    assert.doesNotMatch(sel, /stream=/);
    assert.match(sel, /container_name="jobs\.worker\.1"/);
    // Interleaved by time, the failed line highlighted, the other worker's and web's lines absent.
    assert.deepEqual(await list.getByTestId('log-line').allInnerTexts(), [
      'level=info msg="job 7 started"',
      'Traceback (most recent call last):',
      '  File "/app/jobs.py", line 42, in run',
      'ZeroDivisionError: division by zero',
      'level=info msg="job 7 failed"',
      'level=info msg="job 8 started"',
    ]);
    assert.match(await list.locator('.row.hl').innerText(), /job 7 failed/);
    assert.equal(await list.getByTestId('log-row').filter({ hasText: 'ZeroDivisionError' }).locator('[data-name=stream]').innerText(), 'stderr');
    await shot(page, 'context-all-streams');
    keep('context-all-streams');
    // Remembered for the next context.
    await page.keyboard.press('Escape');
    await rowByText(page, 'job 8 started').locator('.row-main').click();
    await rowByText(page, 'job 8 started').getByTestId('show-context').click();
    await page.getByTestId('context').getByText('in all streams of this container').waitFor();
    assert.deepEqual(problems, []);
    await page.close();
  });
});
