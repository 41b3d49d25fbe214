// Grafana's time forms: `now`, `now-6h`, `now-1d+2h`, `now/d` (rounding), epoch milliseconds, RFC3339.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3, M: 30 * 86400e3, y: 365 * 86400e3 };

/** Parses a time expression to epoch milliseconds, or null when it is not one. */
export function parseTime(text: string, now = Date.now(), roundUp = false): number | null {
  const s = text.trim();
  if (s === '') return null;
  if (s.startsWith('now')) {
    let t = now;
    let rest = s.slice(3);
    const re = /^\s*([+-])\s*(\d+)\s*(ms|s|m|h|d|w|M|y)|^\/(s|m|h|d|w)/;
    while (rest.length) {
      const m = re.exec(rest);
      if (!m) return null;
      if (m[4]) {
        const unit = UNIT_MS[m[4]];
        if (m[4] === 'd' || m[4] === 'w') {
          const d = new Date(t);
          d.setHours(0, 0, 0, 0);
          if (m[4] === 'w') d.setDate(d.getDate() - ((d.getDay() + 6) % 7));
          t = d.getTime() + (roundUp ? unit - 1 : 0);
        } else {
          t = Math.floor(t / unit) * unit + (roundUp ? unit - 1 : 0);
        }
      } else {
        t += (m[1] === '-' ? -1 : 1) * Number(m[2]) * UNIT_MS[m[3]];
      }
      rest = rest.slice(m[0].length);
    }
    return t;
  }
  if (/^-?\d+$/.test(s)) {
    const n = Number(s);
    // Epoch milliseconds as Grafana writes them; 10 digits or fewer are taken as seconds.
    return s.replace('-', '').length <= 10 ? n * 1000 : s.length > 16 ? Math.floor(n / 1e6) : n;
  }
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

export function isRelative(text: string) {
  return text.trim().startsWith('now');
}

export interface Range {
  from: number;
  to: number;
}

export function resolveRange(from: string, to: string, now = Date.now()): Range | string {
  const f = parseTime(from, now, false);
  const t = parseTime(to, now, true);
  if (f === null) return `"${from}" is not a time: use now-6h, epoch milliseconds or an RFC3339 date`;
  if (t === null) return `"${to}" is not a time: use now, epoch milliseconds or an RFC3339 date`;
  if (f >= t) return 'The start of the range must be before its end';
  return { from: f, to: t };
}

export const PRESETS: [string, string][] = [
  ['now-5m', 'Last 5 minutes'],
  ['now-15m', 'Last 15 minutes'],
  ['now-1h', 'Last 1 hour'],
  ['now-3h', 'Last 3 hours'],
  ['now-6h', 'Last 6 hours'],
  ['now-12h', 'Last 12 hours'],
  ['now-24h', 'Last 24 hours'],
  ['now-2d', 'Last 2 days'],
  ['now-7d', 'Last 7 days'],
];

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function fmtTime(ms: number, withMs = true) {
  const d = new Date(ms);
  const s = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${s}.${pad(d.getMilliseconds(), 3)}` : s;
}

export function describeRange(from: string, to: string) {
  if (to.trim() === 'now') {
    const p = PRESETS.find((x) => x[0] === from.trim());
    if (p) return p[1];
    if (isRelative(from)) return `${from} → now`;
  }
  const f = parseTime(from);
  const t = parseTime(to, Date.now(), true);
  const show = (txt: string, v: number | null) => (isRelative(txt) || v === null ? txt : fmtTime(v, false));
  return `${show(from, f)} → ${show(to, t)}`;
}

const NICE = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

/** A step in whole seconds giving about `points` buckets over the range. */
export function niceStep(rangeMs: number, points: number) {
  const raw = rangeMs / 1000 / points;
  return NICE.find((n) => n >= raw) ?? Math.ceil(raw / 86400) * 86400;
}

export function fmtDuration(sec: number) {
  if (sec % 86400 === 0) return `${sec / 86400}d`;
  if (sec % 3600 === 0) return `${sec / 3600}h`;
  if (sec % 60 === 0) return `${sec / 60}m`;
  return `${sec}s`;
}

export function parseDuration(s: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(s.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

/** Nanosecond timestamp string → milliseconds (loses the sub-millisecond part). */
export const nsToMs = (ns: string) => Number(ns.length > 6 ? ns.slice(0, -6) : '0');
export const msToNs = (ms: number) => `${Math.round(ms)}000000`;

/**
 * Labels for a time axis (ticks in seconds, `incr` the tick spacing in seconds) in the log list's
 * clock: 24-hour local time, `HH:mm:ss` below a minute, `HH:mm` below a day with the date
 * (`YYYY-MM-DD`) on the first tick and wherever the day changes, dates only from a day up.
 */
export function axisTimeLabels(ticks: number[], incr: number): string[] {
  let lastDay = '';
  return ticks.map((t) => {
    if (t == null) return '';
    const s = fmtTime(t * 1000, false); // YYYY-MM-DD HH:mm:ss
    const day = s.slice(0, 10);
    if (incr >= 86400) return day;
    const clock = incr < 60 ? s.slice(11, 19) : s.slice(11, 16);
    const label = day !== lastDay ? `${clock}\n${day}` : clock;
    lastDay = day;
    return label;
  });
}
