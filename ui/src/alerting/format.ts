// Times, durations and values as the alerting pages show them.
import { shortNum } from '../charts';
import { fmtTime } from '../time';

/** Epoch milliseconds of an RFC3339 time; null for none or Go's zero time ("never"). */
export function timeMs(t: string | null | undefined): number | null {
  if (!t || t.startsWith('0001-01-01')) return null;
  const ms = Date.parse(t);
  return Number.isNaN(ms) || ms <= 0 ? null : ms;
}

/** "12 s ago", "3 min ago", "in 2 h", "never". */
export function fmtAgo(ms: number | null, now = Date.now()): string {
  if (ms === null) return 'never';
  const d = Math.round((now - ms) / 1000);
  const a = Math.abs(d);
  const v = a < 60 ? `${a} s` : a < 3600 ? `${Math.round(a / 60)} min` : a < 86400 * 2 ? `${(a / 3600).toFixed(a < 36000 ? 1 : 0).replace(/\.0$/, '')} h` : `${Math.round(a / 86400)} d`;
  if (a < 2) return 'just now';
  return d >= 0 ? `${v} ago` : `in ${v}`;
}

export const fmtAbs = (ms: number | null) => (ms === null ? '' : fmtTime(ms, false));

/** Seconds as a Prometheus duration: 90 → 1m30s, 300 → 5m, 0 → 0s. */
export function promDuration(sec: number | undefined | null): string {
  if (!sec) return '0s';
  let s = Math.round(sec * 1000) / 1000;
  const parts: string[] = [];
  for (const [u, n] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (s >= n) {
      parts.push(`${Math.floor(s / n)}${u}`);
      s -= Math.floor(s / n) * n;
    }
  }
  if (s > 0) parts.push(`${+s.toFixed(3)}s`);
  return parts.join('') || '0s';
}

/** An evaluation's duration (seconds): 0.4 ms, 12 ms, 1.2 s. */
export function fmtEvalTime(sec: number | undefined): string {
  if (sec === undefined || sec === null) return '—';
  if (sec < 1e-3) return `${+(sec * 1e6).toFixed(0)} µs`;
  if (sec < 1) return `${+(sec * 1e3).toFixed(sec < 0.01 ? 2 : 1)} ms`;
  return `${+sec.toFixed(2)} s`;
}

export function fmtValue(v: string | number | undefined | null): string {
  if (v === undefined || v === null || v === '') return '—';
  const n = Number(v);
  return Number.isFinite(n) ? shortNum(n) : String(v);
}

/** A Prometheus duration (`5m`, `1h30m`, `90s`) in seconds; null when it is not one. */
export function parsePromDuration(s: string): number | null {
  const t = s.trim();
  if (!t) return null;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/gy;
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  let total = 0;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(t))) {
    total += Number(m[1]) * unit[m[2]];
    at = re.lastIndex;
  }
  return at === t.length ? total : null;
}

export const STATE_ORDER: Record<string, number> = { firing: 0, pending: 1, inactive: 2 };
