// A dashboard's time range and auto-refresh as Grafana keeps them: `from`/`to` in Grafana's forms
// (`now-6h`, `now/d`, epoch milliseconds), `refresh` an interval or off, all three in the URL.
import { parseDuration, resolveRange, type Range } from '../time';

export interface TimeState {
  from: string;
  to: string;
  refresh: string;
}

/** Grafana's default refresh choices. */
export const REFRESH_INTERVALS = ['5s', '10s', '30s', '1m', '5m', '15m', '30m', '1h', '2h', '1d'];

/** The URL's range and refresh, else the dashboard's. */
export function readTime(search: string, dflt: { from: string; to: string }, dashRefresh?: string | false): TimeState {
  const p = new URLSearchParams(search);
  return { from: p.get('from') || dflt.from, to: p.get('to') || dflt.to, refresh: p.get('refresh') ?? (dashRefresh || '') };
}

/** Resolves to milliseconds, or an error sentence. */
export function resolve(t: TimeState, now = Date.now()): Range | string {
  return resolveRange(t.from, t.to, now);
}

/** The refresh interval in milliseconds (none below 1 s), or null when off. */
export function refreshMs(t: TimeState): number | null {
  const ms = t.refresh ? parseDuration(t.refresh) : null;
  return ms ? Math.max(1000, ms) : null;
}

/** Writes the range, refresh and variables into the query string, keeping other parameters. */
export function writeUrl(t: TimeState, vars: { name: string; values: string[] }[], extra: Record<string, string | undefined> = {}): string {
  const p = new URLSearchParams(location.search);
  for (const k of [...p.keys()]) if (k.startsWith('var-')) p.delete(k);
  p.set('from', t.from);
  p.set('to', t.to);
  if (t.refresh) p.set('refresh', t.refresh);
  else p.delete('refresh');
  for (const v of vars) for (const x of v.values) p.append(`var-${v.name}`, x);
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) p.delete(k);
    else p.set(k, v);
  }
  return `${location.pathname}?${p}`;
}

/** Zooming out: twice the span around the same centre, not past now. */
export function zoomOut(r: Range, now = Date.now()): { from: string; to: string } {
  const span = r.to - r.from;
  const mid = (r.from + r.to) / 2;
  const to = Math.min(now, mid + span);
  return { from: String(Math.round(to - span * 2)), to: to >= now ? 'now' : String(Math.round(to)) };
}
