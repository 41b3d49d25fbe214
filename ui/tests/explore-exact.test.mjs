// Explore's small lies, fixed, in a real Chromium against a real server: the log volume's total
// and edge buckets cover exactly the chosen range (edges that cut buckets), chart axes speak the
// log list's 24-hour clock, live "lines/s" leaves out the backfill, "Stop live" stays readable
// on hover in both themes.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, push, launch, newPage, exploreUrl, apiQuery, sleep } from './helpers.mjs';

let server, br;
const now = Date.now();
const EVERY = 7000;
const times = Array.from({ length: Math.floor((2 * 3600e3) / EVERY) }, (_, i) => now - 2 * 3600e3 + i * EVERY);

before(async () => {
  server = await startServer();
  br = await launch();
  await push(server.base, [{ labels: { app: 'vol', stream: 'stdout' }, lines: times.map((t, i) => [t, i % 4 === 0 ? `level=error vol ${i}` : `level=info vol ${i}`]) }]);
});

after(async () => {
  await br?.close();
  await server?.stop();
});

describe('explore tells the truth', () => {
  it('the log volume counts exactly the lines of the range, edge buckets clipped', async () => {
    // About 47 minutes: 60 s buckets, and both edges in the middle of one.
    const from = now - 50 * 60e3 - 17_300;
    const to = now - 3 * 60e3 - 41_700;
    const step = 60e3;
    assert.notEqual(from % step, 0);
    assert.notEqual(to % step, 0);
    // helpers.push adds i % 1000 ns to line i: a line at `from`'s millisecond would be inside.
    const inRange = (lo, hi) => times.filter((t) => t >= lo && t < hi).length;
    const expected = inRange(from, to);
    // What the old histogram summed: the aligned range query, whose edge buckets spill over.
    const naive = await apiQuery(server.base, '/loki/api/v1/query_range', { query: 'sum(count_over_time({app="vol"} [1m]))', start: `${from}000000`, end: `${to}000000`, step: '60s' });
    const naiveSum = naive.data.result[0].values.reduce((n, [, v]) => n + Number(v), 0);
    assert.ok(naiveSum > expected, `the aligned buckets count ${naiveSum}, the range ${expected}: the edges must spill for this test to mean anything`);

    const { page, problems } = await newPage(br.browser);
    await page.goto(exploreUrl(server.base, { query: '{app="vol"}', from: String(from), to: String(to), limit: '5000' }));
    const h = page.getByTestId('histogram');
    await h.locator('canvas').waitFor();
    assert.equal(Number(await h.getAttribute('data-total')), expected);
    assert.equal(await page.getByTestId('histogram-total').innerText(), `${expected} lines in the range`);
    assert.equal(Number(await h.getAttribute('data-bars')), expected);
    // The list shows the same lines.
    await page.getByTestId('row-count').filter({ hasText: `${expected} lines` }).waitFor();
    // The first bucket holds [from, its end], the last [its start, to).
    const ends = (await h.getAttribute('data-times')).split(',').map((t) => Math.round(Number(t) * 1000));
    const values = (await h.getAttribute('data-values')).split(',').map(Number);
    const a = Math.ceil(from / step) * step;
    const b = Math.ceil(to / step) * step;
    assert.equal(ends[0], a);
    assert.equal(ends.at(-1), b);
    assert.equal(values[0], times.filter((t) => t >= from && t <= a).length);
    assert.equal(values.at(-1), inRange(b - step, to));
    // Inner buckets are whole minutes.
    assert.equal(values[1], times.filter((t) => t > a && t <= a + step).length);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('chart axes use the log list’s 24-hour clock and dates', async () => {
    const { page, problems } = await newPage(br.browser);
    // Every text drawn on a canvas: uPlot draws its axis labels with fillText.
    await page.addInitScript(() => {
      window.__drawn = [];
      const f = CanvasRenderingContext2D.prototype.fillText;
      CanvasRenderingContext2D.prototype.fillText = function (t, ...rest) {
        window.__drawn.push(String(t));
        return f.call(this, t, ...rest);
      };
    });
    const from = now - 3600e3, to = now;
    await page.goto(exploreUrl(server.base, { query: '{app="vol"}', from: String(from), to: String(to) }));
    await page.getByTestId('histogram').locator('canvas').waitFor();
    await page.getByTestId('log-row').first().waitFor();
    const drawn = await page.evaluate(() => window.__drawn);
    const clocks = drawn.filter((t) => /^\d{2}:\d{2}$/.test(t));
    assert.ok(clocks.length >= 5, `axis labels drawn: ${JSON.stringify(drawn)}`);
    assert.ok(!drawn.some((t) => /\d(am|pm)\b/i.test(t)), `no 12-hour labels: ${JSON.stringify(drawn)}`);
    // The date, as the log list writes it, under the first tick.
    const rowTime = await page.locator('[data-testid=log-row] time').first().innerText();
    assert.match(rowTime, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);
    assert.ok(drawn.some((t) => /^\d{4}-\d{2}-\d{2}$/.test(t)), `a date label: ${JSON.stringify(drawn)}`);
    // Every clock label is a time inside the range, in the browser's local time like the rows.
    const inRange = await page.evaluate(
      ([labels, from, to]) => {
        const pad = (n) => String(n).padStart(2, '0');
        const ok = new Set();
        for (let t = Math.floor(from / 60e3) * 60e3; t <= to; t += 60e3) {
          const d = new Date(t);
          ok.add(`${pad(d.getHours())}:${pad(d.getMinutes())}`);
        }
        return labels.every((l) => ok.has(l));
      },
      [clocks, from, to],
    );
    assert.ok(inRange, `clock labels in local time within the range: ${clocks}`);
    // A few minutes: seconds too.
    await page.evaluate(() => (window.__drawn = []));
    await page.goto(exploreUrl(server.base, { query: '{app="vol"}', from: String(now - 120e3), to: String(now) }));
    await page.getByTestId('histogram').locator('canvas').waitFor();
    await page.waitForFunction(() => window.__drawn.some((t) => /^\d{2}:\d{2}:\d{2}$/.test(t)));
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('live lines/s leaves out the backfill', async () => {
    await push(server.base, [{ labels: { app: 'rate' }, lines: Array.from({ length: 30 }, (_, i) => [Date.now() - 60e3 + i * 100, `level=info old ${i}`]) }]);
    const { page, problems } = await newPage(br.browser);
    await page.goto(exploreUrl(server.base, { query: '{app="rate"}', from: 'now-1h', to: 'now', live: '1' }));
    const status = page.getByTestId('live-status');
    await status.filter({ hasText: 'buffer 30/1000' }).waitFor();
    const rate = async () => Number(await page.getByTestId('live-rate').innerText());
    for (let i = 0; i < 5; i++) {
      assert.equal(await rate(), 0, 'the 30 backfilled lines are no arrivals');
      await sleep(500);
    }
    await push(server.base, [{ labels: { app: 'rate' }, lines: Array.from({ length: 10 }, (_, i) => [Date.now() + i, `level=info new ${i}`]) }]);
    await status.filter({ hasText: 'buffer 40/1000' }).waitFor();
    // 10 lines over the 5 s window: 2.0 lines/s, never more.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=live-rate]').textContent) === 2);
    for (let i = 0; i < 4; i++) {
      assert.ok((await rate()) <= 2, `rate ${await rate()}`);
      await sleep(500);
    }
    assert.deepEqual(problems, []);
    await page.close();
  });

  for (const theme of ['light', 'dark']) {
    it(`"Stop live" stays readable on hover (${theme})`, async () => {
      const { page, problems } = await newPage(br.browser, { colorScheme: theme });
      await page.addInitScript((t) => localStorage.setItem('bitacora.theme', t), theme);
      await page.goto(exploreUrl(server.base, { query: '{app="rate"}', from: 'now-1h', to: 'now', live: '1' }));
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
      const btn = page.getByTestId('live-toggle');
      await btn.filter({ hasText: 'Stop live' }).waitFor();
      await btn.hover();
      await page.waitForTimeout(100);
      const ratio = await btn.evaluate((el) => {
        const rgb = (s) => s.match(/[\d.]+/g).slice(0, 3).map(Number);
        const lum = ([r, g, b]) => {
          const c = [r, g, b].map((v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
          return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
        };
        const cs = getComputedStyle(el);
        const [l1, l2] = [lum(rgb(cs.color)), lum(rgb(cs.backgroundColor))].sort((a, b) => b - a);
        return (l1 + 0.05) / (l2 + 0.05);
      });
      assert.ok(await btn.evaluate((el) => el.matches(':hover')));
      assert.ok(ratio >= 4.5, `contrast on hover is ${ratio.toFixed(2)}:1`);
      assert.deepEqual(problems, []);
      await page.close();
    });
  }
});
