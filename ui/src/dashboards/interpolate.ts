// Grafana's template variable interpolation: `$var`, `${var}`, `${var:format}`, `[[var]]`,
// multi-value and "All", and the built-in interval and range variables. Pure: no imports, so the
// unit tests (ui/tests/dashboards-interpolate.test.mjs) load this file on its own.

/** A variable's current value as interpolation sees it. */
export interface VarValue {
  /** The selected values; `['$__all']` when "All" is selected. */
  value: string[];
  /** Their display texts (same length as value), for `${var:text}`. */
  text?: string[];
  multi?: boolean;
  includeAll?: boolean;
  /** The custom all value; used as it is, never escaped. */
  allValue?: string | null;
  /** Every option's value but "All": what "All" stands for without a custom all value. */
  options?: string[];
}

export type Vars = Record<string, VarValue>;

/** How a value is written into a query when the reference names no format. */
export type DefaultFormat = 'prometheus' | 'loki' | 'raw';

const RE_ESCAPE = /[\\^$*+?.()|[\]{}]/g;
export const regexEscape = (s: string) => s.replace(RE_ESCAPE, '\\$&');
/** Escaping for a value inside a PromQL/LogQL double-quoted string that is itself a regex. */
const specialRegexEscape = (s: string) => s.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]+?.()|]/g, '\\\\$&');
const regularEscape = (s: string) => s.replace(/\\/g, '\\\\').replace(/'/g, "\\\\'");
const lokiRegularEscape = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

const REF = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:}]+))?(?::([^}]+))?\}/g;

function isAll(v: VarValue) {
  return v.value.length === 1 && v.value[0] === '$__all';
}

/** The values "All" stands for, or the custom all value (returned as `raw`). */
function expand(v: VarValue): { values: string[]; raw?: string } {
  if (!isAll(v)) return { values: v.value };
  if (v.allValue != null && v.allValue !== '') return { values: [], raw: v.allValue };
  return { values: v.options ?? [] };
}

/** Applies one of Grafana's named formats to a value list. */
export function format(values: string[], fmt: string, name: string, multi: boolean, texts?: string[]): string {
  const [kind, arg] = fmt.split(':');
  switch (kind) {
    case 'regex':
      if (!multi && values.length === 1) return regexEscape(values[0]);
      if (values.length === 0) return '.*';
      return `(${values.map(regexEscape).join('|')})`;
    case 'pipe':
      return values.join('|');
    case 'csv':
      return values.join(',');
    case 'distributed':
      return values.map((v, i) => (i === 0 ? v : `${name}=${v}`)).join(',');
    case 'json':
      return JSON.stringify(multi ? values : values[0] ?? '');
    case 'glob':
      return multi && values.length > 1 ? `{${values.join(',')}}` : values.join(',');
    case 'lucene':
      if (values.length === 1) return luceneEscape(values[0]);
      return `(${values.map((v) => `"${luceneEscape(v)}"`).join(' OR ')})`;
    case 'queryparam':
      return values.map((v) => `var-${encodeURIComponent(name)}=${encodeURIComponent(v)}`).join('&');
    case 'percentencode':
      return encodeURIComponent(multi ? `{${values.join(',')}}` : values.join(','));
    case 'doublequote':
      return values.map((v) => `"${v.replace(/"/g, '\\"')}"`).join(',');
    case 'singlequote':
      return values.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(',');
    case 'sqlstring':
      return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',');
    case 'text':
      return (texts ?? values).join(' + ');
    case 'join':
      return values.join(arg ?? ',');
    case 'raw':
    default:
      return values.join(',');
  }
}

function luceneEscape(s: string) {
  return s.replace(/([+\-=&|><!(){}[\]^"~*?:\\/ ])/g, '\\$1');
}

/** The data source's own default (Grafana's Prometheus and Loki interpolateQueryExpr). */
function defaultFormat(values: string[], v: VarValue, mode: DefaultFormat): string {
  if (mode === 'raw') return values.join(',');
  if (!v.multi && !v.includeAll) return mode === 'prometheus' ? regularEscape(values[0] ?? '') : lokiRegularEscape(values[0] ?? '');
  if (values.length === 1) return specialRegexEscape(values[0]);
  if (values.length === 0) return '.*';
  return `(${values.map(specialRegexEscape).join('|')})`;
}

/** Replaces every variable reference in `text`; unknown names stay as they are (as in Grafana). */
export function interpolate(text: string, vars: Vars, mode: DefaultFormat = 'raw'): string {
  if (!text || text.indexOf('$') < 0 && text.indexOf('[[') < 0) return text;
  return text.replace(REF, (whole, n1, n2, f2, n3, _field, f3) => {
    const name = n1 ?? n2 ?? n3;
    const fmt: string | undefined = f2 ?? f3;
    const v = vars[name];
    if (!v) return whole;
    const { values, raw } = expand(v);
    if (raw !== undefined) return raw;
    const multi = !!v.multi || isAll(v) || values.length > 1;
    if (fmt) return format(values, fmt, name, multi, isAll(v) ? ['All'] : v.text);
    return defaultFormat(values, v, mode);
  });
}

/** The names of the variables `text` refers to. */
export function references(text: string | undefined): string[] {
  if (!text) return [];
  const out = new Set<string>();
  for (const m of text.matchAll(REF)) out.add(m[1] ?? m[2] ?? m[4]);
  return [...out];
}

// ---- intervals ----

const MS: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000, M: 2592000000, y: 31536000000 };

/** `30s`, `1m`, `1.5h`, `500ms` → milliseconds; null when not a duration. */
export function durationMs(s: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|M|y)\s*$/.exec(s);
  return m ? Math.round(Number(m[1]) * MS[m[2]]) : null;
}

/** Grafana's rounding of a raw interval to a "nice" one (its kbn.roundInterval table). */
export function roundInterval(ms: number): number {
  const table: [number, number][] = [
    [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1500, 1000], [3500, 2000], [7500, 5000],
    [12500, 10000], [17500, 15000], [25000, 20000], [45000, 30000], [90000, 60000], [210000, 120000], [450000, 300000],
    [750000, 600000], [1050000, 900000], [1500000, 1200000], [2700000, 1800000], [5400000, 3600000], [9000000, 7200000],
    [16200000, 10800000], [32400000, 21600000], [86400000, 43200000], [604800000, 86400000], [1814400000, 604800000],
    [3628800000, 2592000000],
  ];
  for (const [below, v] of table) if (ms < below) return v;
  return 31536000000;
}

/** Milliseconds written as Grafana writes intervals: the largest whole unit (`1m`, `30s`, `2h`, `500ms`). */
export function msToInterval(ms: number): string {
  const units: [string, number][] = [['y', MS.y], ['w', MS.w], ['d', MS.d], ['h', MS.h], ['m', MS.m], ['s', MS.s]];
  for (const [u, n] of units) if (ms >= n && ms % n === 0) return `${ms / n}${u}`;
  if (ms >= 1000) return `${+(ms / 1000).toFixed(3)}s`;
  return `${Math.max(1, Math.round(ms))}ms`;
}

export interface IntervalInput {
  from: number;
  to: number;
  /** The panel's maxDataPoints, else its width in pixels. */
  maxDataPoints: number;
  /** The panel's or data source's minimum interval (`10s`, `>10s`), if any. */
  minInterval?: string;
  /** The data source's scrape interval for $__rate_interval (Grafana's default 15s). */
  scrapeInterval?: string;
  /** Instant queries: `$__auto` is the whole range. */
  instant?: boolean;
}

export interface Intervals {
  intervalMs: number;
  interval: string;
  rangeMs: number;
  rateIntervalMs: number;
}

/** Grafana's calculateInterval: range / resolution, rounded, not below the minimum interval. */
export function computeIntervals(p: IntervalInput): Intervals {
  const rangeMs = Math.max(1, p.to - p.from);
  const resolution = Math.max(1, Math.floor(p.maxDataPoints || 1));
  let intervalMs = roundInterval(rangeMs / resolution);
  const low = p.minInterval ? durationMs(p.minInterval.replace(/^>/, '')) : null;
  if (low && low > intervalMs) intervalMs = low;
  const scrape = (p.scrapeInterval && durationMs(p.scrapeInterval)) || 15000;
  const rateIntervalMs = Math.max(intervalMs + scrape, 4 * scrape);
  return { intervalMs, interval: msToInterval(intervalMs), rangeMs, rateIntervalMs };
}

/** The built-in variables for one query: `$__interval`, `$__auto`, `$__range`, `$__rate_interval`, … */
export function builtinVars(p: IntervalInput): Vars {
  const iv = computeIntervals(p);
  const rangeS = Math.round(iv.rangeMs / 1000);
  const one = (s: string): VarValue => ({ value: [s] });
  return {
    __interval: one(iv.interval),
    __interval_ms: one(String(iv.intervalMs)),
    __auto: one(p.instant ? `${rangeS}s` : iv.interval),
    __range: one(`${rangeS}s`),
    __range_s: one(String(rangeS)),
    __range_ms: one(String(iv.rangeMs)),
    __rate_interval: one(msToInterval(iv.rateIntervalMs)),
    __rate_interval_ms: one(String(iv.rateIntervalMs)),
    __from: one(String(p.from)),
    __to: one(String(p.to)),
  };
}
