// Deploy and crash markers: which container events to show on a chart, read from the events the
// agent records (`{source="docker", app=...} | logfmt | event=~"deploy|die|oom"`), parsed into
// markers, one query per selector and range however many charts ask (a small shared cache).
// Also the on/off switch every chart follows (remembered in localStorage).
import { createSignal } from 'solid-js';
import { apiGet, flattenStreams } from '../api';
import { findSelector, parseLineFields } from '../querymod';

export type MarkerKind = 'deploy' | 'crash';

export interface Marker {
  ms: number;
  kind: MarkerKind;
  /** The event: deploy, die or oom. */
  event: string;
  /** The stable container name (`shop.web.1`). */
  container: string;
  /** The event stream's labels (app, process_type, host, or container_name for non-Dokku). */
  labels: Record<string, string>;
  fields: Record<string, string>;
  /** Killed for memory (an `oom` event, or a `die` with `oom=true`). */
  oom: boolean;
  exitCode: string | null;
  /** How many events this marker stands for (an OOM kill's `oom` and `die` are one crash). */
  merged: number;
}

const KEY = 'bitacora.markers';
const [on, setOn] = createSignal(localStorage.getItem(KEY) !== '0');
/** Whether charts draw markers (and fetch them at all). */
export const markersOn = on;
export function setMarkersOn(v: boolean) {
  setOn(v);
  try {
    localStorage.setItem(KEY, v ? '1' : '0');
  } catch {}
}

const esc = (s: string) => s.replace(/[\\"]/g, '\\$&');
const reEsc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The events query for some apps (none: every app and container). */
export function markersQuery(apps: string[] | null): string {
  const m = !apps?.length ? '' : apps.length === 1 ? `, app="${esc(apps[0])}"` : `, app=~"${esc(apps.map(reEsc).join('|'))}"`;
  return `{source="docker"${m}} | logfmt | event=~"deploy|die|oom"`;
}

/** The app a query's first selector names with `app="x"` (not `=~`, not `!=`), or null. */
export function appOfQuery(q: string): string | null {
  const sel = findSelector(q);
  if (!sel) return null;
  const inner = q.slice(sel.open + 1, sel.close);
  const m = /(?:^|[\s,])app\s*=\s*("(?:[^"\\]|\\.)*"|`[^`]*`)/.exec(inner);
  if (!m) return null;
  const v = m[1];
  if (v.startsWith('`')) return v.slice(1, -1);
  try {
    return JSON.parse(v);
  } catch {
    return null;
  }
}

/** A marker from one event line, or null when the event is no marker (a die with exit code 0, or one asked for). */
export function parseMarker(ms: number, line: string, labels: Record<string, string>): Marker | null {
  const fields = parseLineFields(line)?.fields ?? {};
  const event = fields.event ?? '';
  const oom = event === 'oom' || fields.oom === 'true';
  const exitCode = fields.exit_code ?? null;
  let kind: MarkerKind;
  if (event === 'deploy') kind = 'deploy';
  // A die the engine was asked for (`stopped=true`: docker stop or kill, a deploy retiring the old
  // container) is no crash, whatever its exit code, unless the kernel's OOM killer ended it.
  else if (event === 'oom' || (event === 'die' && (oom || (exitCode !== null && exitCode !== '0' && fields.stopped !== 'true')))) kind = 'crash';
  else return null;
  const container = fields.container ?? labels.container_name ?? '';
  return { ms, kind, event, container, labels, fields, oom, exitCode, merged: 1 };
}

/** Sorted by time; an OOM kill's `oom` and `die` events of one container within 5 s become one crash. */
export function mergeMarkers(list: Marker[]): Marker[] {
  const sorted = [...list].sort((a, b) => a.ms - b.ms);
  const out: Marker[] = [];
  for (const m of sorted) {
    let prev: Marker | undefined;
    for (let i = out.length - 1; i >= 0 && !prev; i--) {
      const p = out[i];
      if (m.ms - p.ms > 5000) break;
      if (p.kind === 'crash' && m.kind === 'crash' && p.container === m.container && (p.event === 'oom') !== (m.event === 'oom') && p.merged === 1) prev = p;
    }
    if (prev) {
      // Keep the die (it has the exit code), remember the OOM.
      const die = prev.event === 'die' ? prev : m;
      Object.assign(prev, { ...die, ms: prev.ms, oom: true, merged: prev.merged + 1, fields: { ...m.fields, ...prev.fields, ...die.fields } });
    } else out.push({ ...m });
  }
  return out;
}

const LIMIT = 1000;
const cache = new Map<string, Promise<Marker[]>>();

/** The markers of some apps over [from, to] (ms); the same selector and range share one request. */
export function loadMarkers(apps: string[] | null, from: number, to: number): Promise<Marker[]> {
  const query = markersQuery(apps);
  const key = `${query}|${from}|${to}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const p = apiGet('/loki/api/v1/query_range', { query, start: `${Math.floor(from)}000000`, end: `${Math.ceil(to)}000000`, limit: LIMIT, direction: 'backward' }, { headers: { 'X-Query-Tags': 'Source=markers' } }).then((res) => {
    const rows = flattenStreams(res.data?.result ?? []);
    const list: Marker[] = [];
    for (const r of rows) {
      // The stream labels include what logfmt extracted; keep only the event stream's own labels.
      const { app, process_type, host, container_name, compose_project, compose_service } = r.labels;
      const labels = Object.fromEntries(Object.entries({ app, process_type, host, container_name, compose_project, compose_service }).filter(([, v]) => v !== undefined)) as Record<string, string>;
      const m = parseMarker(r.ms, r.line, labels);
      if (m) list.push(m);
    }
    return mergeMarkers(list);
  });
  p.catch(() => cache.delete(key));
  cache.set(key, p);
  while (cache.size > 16) cache.delete(cache.keys().next().value!);
  return p;
}

/** The LogQL selector of the lines of the app (or container) a marker's event belongs to, events left out. */
export function appSelector(m: Marker): string {
  if (m.labels.app) return `{app="${esc(m.labels.app)}", source!="docker"}`;
  return `{container_name="${esc(m.container)}", source!="docker"}`;
}

/** What a marker's tooltip says, one fact a line. */
export function describeMarker(m: Marker): string[] {
  const f = m.fields;
  const out: string[] = [];
  if (m.kind === 'deploy') {
    out.push(`deploy of ${m.container}`);
    if (f.old_image && f.old_image !== f.image) out.push(`image ${f.old_image} → ${f.image}`);
    else if (f.image) out.push(`image ${f.image}${f.old_image_id && f.image_id ? ` (${f.old_image_id} → ${f.image_id})` : ''}`);
    if (f.old_id && f.id) out.push(`container ${f.old_id} → ${f.id}`);
    if (f.took) out.push(`took ${f.took}`);
  } else {
    out.push(`crash of ${m.container}`);
    const why = [m.exitCode !== null ? `exit code ${m.exitCode}` : '', m.oom ? 'out of memory (OOM)' : ''].filter(Boolean).join(', ');
    if (why) out.push(why);
    if (f.image) out.push(`image ${f.image}`);
    if (f.id) out.push(`container ${f.id}`);
  }
  return out;
}
