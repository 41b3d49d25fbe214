// Runs a panel's targets: each through its data source (Loki or Prometheus), with variables and
// the built-in interval variables interpolated, the step from maxDataPoints and the minimum
// interval, series named by legendFormat. The answer is what panels draw and the inspector shows.
import { flattenStreams, cmpTs, isMetricQuery, type LogRow } from '../api';
import { builtinVars, computeIntervals, interpolate, type Vars } from './interpolate';
import { dsGet, dsUrl, resolveDataSource, type DataSource } from './datasources';
import type { Panel, Target } from './model';

export interface Series {
  refId: string;
  name: string;
  labels: Record<string, string>;
  /** Milliseconds. */
  times: number[];
  values: (number | null)[];
}

export interface SentQuery {
  refId: string;
  datasource: string;
  expr: string;
  url: string;
  error?: string;
  rows?: number;
  ms?: number;
}

export interface PanelData {
  series: Series[];
  logs: LogRow[];
  /** Whether every series came from an instant query (one point each). */
  instant: boolean;
  sent: SentQuery[];
  error?: string;
  intervalMs: number;
}

export interface QueryContext {
  vars: Vars;
  from: number;
  to: number;
  /** The panel's width in pixels (maxDataPoints when the panel sets none). */
  width: number;
  datasources: DataSource[];
  signal?: AbortSignal;
}

const MAX_POINTS = 11000;

/** `{{label}}` replaced by the series' labels; empty or `__auto` gives the series' selector. */
export function legendName(fmt: string | undefined, labels: Record<string, string>) {
  if (fmt && fmt !== '__auto') {
    const name = fmt.replace(/\{\{\s*(.+?)\s*\}\}/g, (_, k) => labels[k] ?? '');
    // A format whose labels the series lacks would leave a blank name: say what it is instead.
    if (name.trim()) return name;
  }
  const { __name__, ...rest } = labels;
  const e = Object.entries(rest);
  if (!e.length) return __name__ ?? '{}';
  return `${__name__ ?? ''}{${e.map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
}

const isInstant = (t: Target) => t.instant === true || t.queryType === 'instant' || (t.range === false && t.instant !== false);

function toSeries(refId: string, legend: string | undefined, data: any): Series[] {
  const type = data?.resultType;
  const res: any[] = data?.result ?? [];
  if (type === 'matrix') return res.map((s) => ({ refId, name: legendName(legend, s.metric ?? {}), labels: s.metric ?? {}, times: s.values.map((v: any) => Math.round(Number(v[0]) * 1000)), values: s.values.map((v: any) => num(v[1])) }));
  if (type === 'vector') return res.map((s) => ({ refId, name: legendName(legend, s.metric ?? {}), labels: s.metric ?? {}, times: [Math.round(Number(s.value[0]) * 1000)], values: [num(s.value[1])] }));
  if (type === 'scalar') return [{ refId, name: legend || refId, labels: {}, times: [Math.round(Number(res[0]) * 1000)], values: [num((res as any)[1])] }];
  return [];
}

const num = (s: string) => {
  const n = Number(s);
  return Number.isFinite(n) ? n : s === 'NaN' ? null : n;
};

/** Runs every visible target of a panel; one failing target does not hide the others' data. */
export async function runPanel(panel: Panel, ctx: QueryContext): Promise<PanelData> {
  const out: PanelData = { series: [], logs: [], instant: true, sent: [], intervalMs: 0 };
  const targets = (panel.targets ?? []).filter((t) => !t.hide && (t.expr ?? '').trim());
  const errors: string[] = [];
  await Promise.all(
    targets.map(async (t) => {
      const ds = resolveDataSource(t.datasource ?? panel.datasource, ctx.datasources, ctx.vars);
      if (typeof ds === 'string') {
        errors.push(ds);
        out.sent.push({ refId: t.refId, datasource: '?', expr: t.expr!, url: '', error: ds });
        return;
      }
      const instant = isInstant(t);
      const iv = computeIntervals({ from: ctx.from, to: ctx.to, maxDataPoints: panel.maxDataPoints || ctx.width, minInterval: t.interval || panel.interval || ds.jsonData?.timeInterval, scrapeInterval: ds.jsonData?.timeInterval });
      out.intervalMs = iv.intervalMs;
      const vars = { ...ctx.vars, ...builtinVars({ from: ctx.from, to: ctx.to, maxDataPoints: panel.maxDataPoints || ctx.width, minInterval: t.interval || panel.interval || ds.jsonData?.timeInterval, scrapeInterval: ds.jsonData?.timeInterval, instant }) };
      const expr = interpolate(t.expr!, vars, ds.type === 'prometheus' ? 'prometheus' : 'loki');
      const stepMs = Math.max(iv.intervalMs * (t.intervalFactor || 1), Math.ceil((ctx.to - ctx.from) / MAX_POINTS));
      const sent: SentQuery = { refId: t.refId, datasource: ds.name, expr, url: '' };
      out.sent.push(sent);
      const t0 = performance.now();
      try {
        let path: string;
        let params: Record<string, string | number | undefined>;
        const logs = ds.type === 'loki' && !isMetricQuery(expr);
        if (ds.type === 'prometheus') {
          const step = stepMs / 1000;
          if (instant) [path, params] = ['api/v1/query', { query: expr, time: ctx.to / 1000 }];
          else [path, params] = ['api/v1/query_range', { query: expr, start: Math.floor(ctx.from / stepMs) * step, end: Math.ceil(ctx.to / stepMs) * step, step }];
        } else if (logs) {
          [path, params] = ['loki/api/v1/query_range', { query: expr, start: `${ctx.from}000000`, end: `${ctx.to}000000`, limit: t.maxLines ?? 1000, direction: 'backward' }];
        } else if (instant) {
          [path, params] = ['loki/api/v1/query', { query: expr, time: `${ctx.to}000000` }];
        } else {
          [path, params] = ['loki/api/v1/query_range', { query: expr, start: `${ctx.from}000000`, end: `${ctx.to}000000`, step: stepMs / 1000 }];
        }
        sent.url = dsUrl(ds, path, params);
        const res = await dsGet(ds, path, params, { signal: ctx.signal, logs });
        sent.ms = Math.round(performance.now() - t0);
        if (res?.data?.resultType === 'streams') {
          const rows = flattenStreams(res.data.result ?? []);
          sent.rows = rows.length;
          out.logs.push(...rows);
        } else {
          const s = toSeries(t.refId, t.legendFormat, res?.data);
          if (!instant || res?.data?.resultType === 'matrix') out.instant = false;
          sent.rows = s.length;
          out.series.push(...s);
        }
      } catch (e: any) {
        if (e?.name === 'AbortError') throw e;
        sent.error = e?.message ?? String(e);
        errors.push(`${t.refId}: ${sent.error}`);
      }
    }),
  );
  out.logs.sort(cmpTs).reverse();
  out.series.sort((a, b) => (a.refId < b.refId ? -1 : a.refId > b.refId ? 1 : 0));
  if (!out.series.length) out.instant = targets.every(isInstant);
  if (errors.length) out.error = errors.join('\n');
  return out;
}

/** Every series on one time axis (seconds, as uPlot wants), gaps as null. */
export function alignSeries(series: Series[]): { times: number[]; values: (number | null)[][] } {
  const all = new Set<number>();
  for (const s of series) for (const t of s.times) all.add(t);
  const times = [...all].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const values = series.map((s) => {
    const v: (number | null)[] = new Array(times.length).fill(null);
    s.times.forEach((t, i) => (v[at.get(t)!] = s.values[i]));
    return v;
  });
  return { times: times.map((t) => t / 1000), values };
}

/** Grafana's reducers (`reduceOptions.calcs`) over one series' values. */
export function reduce(values: (number | null)[], calc = 'lastNotNull'): number | null {
  const nums = values.filter((v): v is number => v != null && Number.isFinite(v));
  switch (calc) {
    case 'last':
      return values.length ? values[values.length - 1] : null;
    case 'lastNotNull':
      return nums.length ? nums[nums.length - 1] : null;
    case 'first':
      return values.length ? values[0] : null;
    case 'firstNotNull':
      return nums.length ? nums[0] : null;
    case 'min':
      return nums.length ? Math.min(...nums) : null;
    case 'max':
      return nums.length ? Math.max(...nums) : null;
    case 'mean':
      return nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : null;
    case 'sum':
      return nums.reduce((a, b) => a + b, 0);
    case 'count':
      return values.length;
    case 'range':
      return nums.length ? Math.max(...nums) - Math.min(...nums) : null;
    case 'delta': {
      let d = 0;
      for (let i = 1; i < nums.length; i++) d += nums[i] >= nums[i - 1] ? nums[i] - nums[i - 1] : nums[i];
      return d;
    }
    case 'diff':
      return nums.length ? nums[nums.length - 1] - nums[0] : null;
    case 'median': {
      if (!nums.length) return null;
      const s = [...nums].sort((a, b) => a - b);
      const m = s.length >> 1;
      return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
    default:
      return nums.length ? nums[nums.length - 1] : null;
  }
}

export const CALC_LABELS: Record<string, string> = { lastNotNull: 'Last *', last: 'Last', first: 'First', firstNotNull: 'First *', min: 'Min', max: 'Max', mean: 'Mean', sum: 'Total', count: 'Count', range: 'Range', delta: 'Delta', diff: 'Difference', median: 'Median' };
