// The login page in a real browser against a server with a configured user: a wrong password
// is refused with a message, the right one lands on the apps page (whose API calls then work
// with the session cookie), logout returns to the login page, and repeated failures are
// rate limited. Screenshots of the page in both themes go to ui/test-results/.
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, push, launch, newPage, shot, binPath } from './helpers.mjs';

const PASSWORD = 'a long and secret passphrase';
let server, br, basic;
const now = Date.now();

before(async () => {
  const hash = execFileSync(binPath(), ['hash-password'], { input: `${PASSWORD}\n` }).toString().trim();
  assert.match(hash, /^\$argon2id\$/);
  server = await startServer({
    BITACORA_AUTH__USERS: JSON.stringify([{ username: 'ann', password_hash: hash }]),
    BITACORA_AUTH__LOGIN_MAX_FAILURES: '3',
  });
  br = await launch();
  basic = { Authorization: `Basic ${Buffer.from(`ann:${PASSWORD}`).toString('base64')}` };
  await push(server.base, [{ labels: { app: 'shop', process_type: 'web', container_name: 'shop.web.1', stream: 'stdout' }, lines: Array.from({ length: 12 }, (_, i) => [now - (12 - i) * 1000, `level=info msg="order ${i} paid"`]) }], basic);
  // Without credentials, the API refuses the push.
  const r = await fetch(`${server.base}/loki/api/v1/push`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"streams":[]}' });
  assert.equal(r.status, 401);
});

after(async () => {
  await br?.close();
  await server?.stop();
});

describe('login', () => {
  it('refuses a wrong password, lets the right one in, logs out, and rate limits', async () => {
    const { page, problems } = await newPage(br.browser);
    // A page of the UI without a session: the login page, remembering where to go.
    await page.goto(`${server.base}/apps`);
    await page.getByTestId('login-form').waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(new URL(page.url()).searchParams.get('next'), '/apps');
    assert.equal(await page.getByTestId('logout').count(), 0);
    await shot(page, 'login-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByTestId('theme-toggle').click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
    await shot(page, 'login-light');

    await page.getByTestId('login-user').fill('ann');
    await page.getByTestId('login-password').fill('not the password');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').filter({ hasText: 'Wrong user name or password.' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await page.getByTestId('login-password').inputValue(), '');
    await shot(page, 'login-wrong-password');

    await page.getByTestId('login-password').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
    // The apps page, filled by the UI's own API calls with the session cookie.
    const card = page.locator('[data-testid=app][data-name="shop"]');
    await card.waitFor();
    assert.equal(new URL(page.url()).pathname, '/apps');
    assert.equal(await card.getByTestId('lines-hour').innerText(), '12');
    assert.equal(await page.getByTestId('user').innerText(), 'ann');
    await shot(page, 'apps-logged-in');
    const cookies = await br.browser.cookies(server.base);
    const sess = cookies.find((c) => c.name === 'bitacora_session');
    assert.ok(sess && sess.httpOnly && sess.sameSite === 'Lax', JSON.stringify(cookies));
    // Explore's queries work with it too.
    await page.goto(`${server.base}/explore?${new URLSearchParams({ query: '{app="shop"}', from: 'now-1h', to: 'now' })}`);
    await page.getByTestId('row-count').filter({ hasText: '12 lines' }).waitFor();
    // Live tail: the WebSocket carries the cookie (same origin) and receives a new line.
    await page.goto(`${server.base}/explore?${new URLSearchParams({ query: '{app="shop"}', from: 'now-1h', to: 'now', live: '1' })}`);
    await page.getByTestId('live-status').filter({ hasText: 'Live' }).waitFor();
    await push(server.base, [{ labels: { app: 'shop', process_type: 'web' }, lines: [[Date.now(), 'level=info msg="tailed with a session"']] }], basic);
    await page.getByTestId('log-row').filter({ hasText: 'tailed with a session' }).waitFor({ timeout: 5000 });

    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal((await br.browser.cookies(server.base)).find((c) => c.name === 'bitacora_session'), undefined);
    await page.goto(`${server.base}/apps`);
    await page.getByTestId('login-form').waitFor();

    // Three failures in all (one above): the next attempt is refused, whatever the password.
    for (let i = 0; i < 2; i++) {
      await page.getByTestId('login-user').fill('ann');
      await page.getByTestId('login-password').fill(`guess ${i}`);
      await page.getByTestId('login-submit').click();
      await page.getByTestId('login-error').filter({ hasText: 'Wrong user name or password.' }).waitFor();
      await page.getByTestId('login-submit').and(page.locator(':enabled')).waitFor();
    }
    await page.getByTestId('login-password').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').filter({ hasText: /^Too many failed logins\. Try again in \d+ s\.$/ }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/login');

    // The refused logins are the only failed requests of the page.
    const unexpected = problems.filter((p) => !/^HTTP (401|429) .*\/auth\/login$/.test(p) && !/status of 40[1]|status of 429/.test(p));
    assert.deepEqual(unexpected, []);
    await page.close();
  });
});
