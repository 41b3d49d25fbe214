// Who is logged in (GET /auth/session), the session's CSRF token, login and logout.
import { createSignal } from 'solid-js';

export interface SessionInfo {
  auth_enabled: boolean;
  user: string | null;
  csrf: string | null;
  /** How the browser is authenticated: only a "session" can be logged out of here. */
  via?: 'session' | 'basic' | 'bearer' | 'proxy' | null;
}

const [session, setSession] = createSignal<SessionInfo | null>(null);
export { session };

/** Sent with the UI's own requests: the server then answers 401 without `WWW-Authenticate`, so
 * the browser does not show its own password dialog. */
export const UI_HEADER = { 'X-Requested-With': 'bitacora' };

export async function loadSession(): Promise<SessionInfo | null> {
  try {
    const r = await fetch('/auth/session', { headers: UI_HEADER });
    if (!r.ok) return null;
    const s = (await r.json()) as SessionInfo;
    setSession(s);
    return s;
  } catch {
    return null;
  }
}

/** A same-site path to return to after the login, never another site. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/apps';
}

/** Sends the browser to the login page, to come back here afterwards. */
export function toLogin() {
  if (location.pathname === '/login') return;
  location.assign(`/login?${new URLSearchParams({ next: location.pathname + location.search })}`);
}

export async function login(username: string, password: string): Promise<string | null> {
  let r: Response;
  try {
    r = await fetch('/auth/login', { method: 'POST', headers: { ...UI_HEADER, 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) });
  } catch (e: any) {
    return `Cannot reach the Bitácora server (${e?.message ?? e}).`;
  }
  if (r.ok) {
    const j = await r.json();
    setSession({ auth_enabled: true, user: j.user, csrf: j.csrf, via: 'session' });
    return null;
  }
  const text = (await r.text()).trim();
  if (r.status === 401) return 'Wrong user name or password.';
  if (r.status === 429) return `Too many failed logins. ${text.replace(/^too many failed logins;\s*/, '').replace(/^./, (c) => c.toUpperCase())}.`;
  return text || `The server answered ${r.status}.`;
}

export async function logout() {
  const csrf = session()?.csrf ?? '';
  try {
    await fetch('/auth/logout', { method: 'POST', headers: { ...UI_HEADER, 'X-CSRF-Token': csrf } });
  } catch {}
  setSession(null);
  location.assign('/login');
}
