// The Loki HTTP API as this page uses it. Every failure becomes an ApiError with words a person can read.
import { session, toLogin, UI_HEADER } from './session';

export class ApiError extends Error {
  constructor(
    message: string,
    public status = 0,
    public line?: number,
    public col?: number,
    /** The answer's body as the server sent it (apiSend only). */
    public body?: string,
  ) {
    super(message);
  }
}

function describeStatus(status: number) {
  if (status === 400) return 'The server rejected the request';
  if (status === 401) return 'Not logged in';
  if (status === 403) return 'Not allowed';
  if (status === 404) return 'The server does not know this endpoint';
  if (status === 429) return 'The server is rate limiting requests';
  if (status === 504) return 'The query timed out';
  if (status >= 500) return 'The server failed';
  return `The server answered ${status}`;
}

export async function apiGet<T = any>(path: string, params: Record<string, string | number | string[] | undefined>, opts: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<T> {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) v.forEach((x) => u.append(k, x));
    else u.set(k, String(v));
  }
  let res: Response;
  try {
    res = await fetch(`${path}?${u}`, { headers: { ...UI_HEADER, ...opts.headers }, signal: opts.signal });
  } catch (e: any) {
    if (e?.name === 'AbortError') throw e;
    throw new ApiError(`Cannot reach the Bitácora server (${e?.message ?? e}). Is it running?`);
  }
  // The session ended (logout elsewhere, expiry, restart): log in again, then come back.
  if (res.status === 401) toLogin();
  const text = await res.text();
  if (!res.ok) {
    let msg = text.trim();
    try {
      const j = JSON.parse(msg);
      msg = j.error ?? j.message ?? msg;
    } catch {}
    const pos = /line (\d+), col (\d+)/.exec(msg);
    throw new ApiError(`${describeStatus(res.status)}: ${msg || res.statusText}`, res.status, pos ? Number(pos[1]) : undefined, pos ? Number(pos[2]) : undefined);
  }
  const arrived = performance.now();
  try {
    const j = JSON.parse(text);
    if (j && typeof j === 'object') Object.defineProperty(j, '__arrived', { value: arrived });
    return j;
  } catch {
    throw new ApiError(`The server sent a response that is not JSON (${text.slice(0, 80)})`, res.status);
  }
}

/** Any request (GET of a non-JSON body, POST, DELETE) with the session's CSRF token; answers the
 * body as text, or throws an ApiError carrying the server's own message. */
export async function apiSend(method: string, path: string, opts: { body?: string; contentType?: string; signal?: AbortSignal } = {}): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { ...UI_HEADER };
  if (opts.contentType) headers['Content-Type'] = opts.contentType;
  const csrf = session()?.csrf;
  if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: opts.body, signal: opts.signal });
  } catch (e: any) {
    if (e?.name === 'AbortError') throw e;
    throw new ApiError(`Cannot reach the Bitácora server (${e?.message ?? e}). Is it running?`);
  }
  if (res.status === 401) toLogin();
  const text = await res.text();
  if (!res.ok) {
    let msg = text.trim();
    try {
      // Alertmanager's errors are a JSON string; Prometheus' an object with `error`.
      const j = JSON.parse(msg);
      msg = typeof j === 'string' ? j : (j?.error || j?.message || msg);
    } catch {}
    const pos = /line (\d+), col(?:umn)? (\d+)/.exec(msg);
    throw new ApiError(`${describeStatus(res.status)}: ${msg || res.statusText}`, res.status, pos ? Number(pos[1]) : undefined, pos ? Number(pos[2]) : undefined, text);
  }
  return { status: res.status, text };
}

export const ms2ns = (ms: number) => `${Math.round(ms)}000000`;

export interface LogRow {
  id: number;
  ts: string; // nanoseconds
  ms: number;
  line: string;
  labels: Record<string, string>; // stream labels
  meta: Record<string, string>; // structured metadata
  parsed: Record<string, string>;
  level: string;
}

export interface MatrixSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

let nextId = 1;

const LEVEL_WORDS: Record<string, string> = {
  trace: 'trace', trc: 'trace', debug: 'debug', dbg: 'debug', info: 'info', inf: 'info', information: 'info', notice: 'info',
  warn: 'warn', warning: 'warn', wrn: 'warn', error: 'error', err: 'error', critical: 'critical', crit: 'critical', fatal: 'fatal', panic: 'fatal', emerg: 'fatal',
};

export function normLevel(v: string | undefined): string | undefined {
  if (!v) return undefined;
  return LEVEL_WORDS[v.toLowerCase()] ?? undefined;
}

const LEVEL_RE = /\b(trace|debug|fatal|critical|error|err|warning|warn|info)\b/i;

/** The level of an entry: its detected_level metadata, else a level field, else a word in the line. */
export function levelOf(line: string, labels: Record<string, string>, meta: Record<string, string>, parsed: Record<string, string>): string {
  const d = meta.detected_level ?? labels.detected_level ?? parsed.detected_level;
  if (d && d !== 'unknown') return normLevel(d) ?? d;
  for (const src of [labels, meta, parsed]) {
    const v = normLevel(src.level ?? src.lvl ?? src.severity);
    if (v) return v;
  }
  if (d === 'unknown') return 'unknown';
  const m = LEVEL_RE.exec(line);
  return m ? (normLevel(m[1]) ?? 'unknown') : 'unknown';
}

/** Flattens a `streams` result (2- or 3-tuples) into rows. */
export function flattenStreams(result: any[]): LogRow[] {
  const rows: LogRow[] = [];
  for (const s of result) {
    const labels = s.stream ?? {};
    for (const v of s.values ?? []) {
      const extra = v[2] ?? {};
      const meta = extra.structuredMetadata ?? {};
      const parsed = extra.parsed ?? {};
      rows.push({ id: nextId++, ts: v[0], ms: Number(v[0].slice(0, -6) || 0), line: v[1], labels, meta, parsed, level: levelOf(v[1], labels, meta, parsed) });
    }
  }
  return rows;
}

export const cmpTs = (a: LogRow, b: LogRow) => (a.ts.length !== b.ts.length ? a.ts.length - b.ts.length : a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0);

export const CATEGORIZE = { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' };

export function queryRange(query: string, p: { start: string; end: string; limit?: number; direction?: string; step?: string }, signal?: AbortSignal) {
  return apiGet('/loki/api/v1/query_range', { query, ...p }, { headers: CATEGORIZE, signal });
}

export function labelSelector(labels: Record<string, string>) {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;
}

export function seriesName(metric: Record<string, string>) {
  const e = Object.entries(metric);
  if (!e.length) return '{}';
  return `{${e.map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
}

export function isMetricQuery(q: string) {
  // A log query starts with its selector; anything else (a function, an aggregation, a number) is a metric query.
  return !/^\s*(#[^\n]*\n\s*)*\{/.test(q);
}
