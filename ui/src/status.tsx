// Status: Bitácora watching itself (GET /api/status, every 5 s): ingest rate, disk use and the
// retention horizon it implies, storage files, streams, the agent's containers, and the last
// warnings and errors of its own log (`{app="bitacora"}`), each opening Explore around its time.
import './status.css';
import { createMemo, createSignal, For, onCleanup, onMount, Show } from 'solid-js';
import { apiGet } from './api';
import { exploreUrl, linkClick } from './router';
import { fmtTime } from './time';

export interface Target {
  container: string;
  lines_read: number;
  lines_sent: number;
  lines_dropped: number;
  bytes_read: number;
  bytes_sent: number;
  bytes_dropped: number;
  lag_bytes: number;
  files_lost: number;
}

interface Status {
  version: string;
  uptime_seconds: number;
  ingest: { lines_per_second: number; bytes_per_second: number; lines_total: number; bytes_total: number };
  disk: {
    segments: number;
    segment_bytes: number;
    raw_bytes: number;
    wal_files: number;
    wal_bytes: number;
    head_bytes: number;
    open_segment_files: number;
    free_bytes: number;
    total_bytes: number;
    full: boolean;
  };
  retention: { period_seconds: number; max_bytes: number; oldest_ts: string; newest_ts: string; horizon_seconds: number | null; limited_by: 'disk' | 'retention_period' };
  streams: { total: number; active: number };
  targets: Partial<Target>[];
  /** Present when a bucket is configured (`store.object_store`). */
  cluster?: Cluster | null;
  problems: { ts: number | string; level: string; line: string }[];
}

export interface Cluster {
  bucket: string;
  node_id: string;
  role: string;
  advertise_url: string;
  bucket_failing: boolean;
  pending_uploads: number;
  pending_deletes: number;
  other_writers_segments: number;
  evaluates_rules: boolean;
  nodes: { node_id: string; url: string; at_ms: number; role: string }[];
}

const REFRESH_MS = 5000;
const SELF = '{app="bitacora"}';

const int = (n: number) => Math.round(n).toLocaleString('en');

/** Bytes in binary units: 0 B, 812 B, 3.4 KiB, 120 MiB, 1.02 GiB. */
export function fmtBytes(n: number) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  if (i === 0) return `${Math.round(n)} B`;
  return `${n >= 100 ? Math.round(n) : n >= 10 ? n.toFixed(1) : n.toFixed(2)} ${units[i]}`;
}

/** A rate: 0, 0.35, 7.3, 1,204. */
export function fmtRate(n: number) {
  if (n === 0) return '0';
  if (n < 1) return n.toFixed(2);
  if (n < 100) return n.toFixed(1);
  return int(n);
}

/** A length of time in the largest unit that fits: 45 seconds, 12 minutes, 5.5 hours, 7 days, 3 months, 2.1 years. */
export function fmtSpan(sec: number) {
  const u: [number, string][] = [
    [365 * 86400, 'year'],
    [30 * 86400, 'month'],
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  for (const [s, name] of u) {
    if (sec >= s * (s >= 86400 ? 2 : 1) || s === 1) {
      const v = sec / s;
      const shown = v >= 10 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1).replace(/\.0$/, '');
      return `${shown} ${name}${shown === '1' ? '' : 's'}`;
    }
  }
  return `${sec} seconds`;
}

const nsMs = (ts: number | string) => (typeof ts === 'string' ? Number(ts.length > 6 ? ts.slice(0, -6) : '0') : Math.floor(ts / 1e6));

function limitWords(s: Status) {
  const r = s.retention;
  if (r.horizon_seconds === null) return 'no retention limit and no ingest: kept for ever';
  if (r.limited_by === 'retention_period') return `limited by store.retention_period (${fmtSpan(r.period_seconds)})`;
  if (r.max_bytes > 0) return `limited by store.retention_max_bytes (${fmtBytes(r.max_bytes)}) at the current ingest rate`;
  return 'limited by the free disk space at the current ingest rate';
}

export const targetState = (t: Partial<Target>) => ((t.lines_dropped ?? 0) > 0 || (t.files_lost ?? 0) > 0 ? 'bad' : (t.lag_bytes ?? 0) > 0 ? 'lag' : 'ok');

function Stat(props: { label: string; value: string; raw?: number | string; id: string; sub?: string; bad?: boolean }) {
  return (
    <div class="st-stat">
      <span class="st-label">{props.label}</span>
      <span class="num" classList={{ bad: props.bad }} data-testid={props.id} data-value={props.raw}>
        {props.value}
      </span>
      <Show when={props.sub}>
        <span class="muted small">{props.sub}</span>
      </Show>
    </div>
  );
}

function DiskBar(props: { s: Status }) {
  const d = () => props.s.disk;
  const mine = () => d().segment_bytes + d().wal_bytes;
  const other = () => Math.max(0, d().total_bytes - d().free_bytes - mine());
  const pct = (n: number) => (d().total_bytes > 0 ? `${((100 * n) / d().total_bytes).toFixed(2)}%` : '0%');
  const usedPct = () => (d().total_bytes > 0 ? Math.round((100 * (d().total_bytes - d().free_bytes)) / d().total_bytes) : 0);
  return (
    <div>
      <div
        class="st-bar"
        classList={{ full: d().full || usedPct() >= 95 }}
        role="meter"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={usedPct()}
        aria-label={`Disk ${usedPct()}% used`}
        data-testid="disk-bar"
      >
        <span class="st-bar-mine" style={{ width: mine() > 0 ? `max(2px, ${pct(mine())})` : '0' }} />
        <span class="st-bar-other" style={{ width: pct(other()) }} />
      </div>
      <div class="st-legend small">
        <span>
          <i class="swatch st-bar-mine" />
          Bitácora {fmtBytes(mine())}
        </span>
        <span>
          <i class="swatch st-bar-other" />
          other files {fmtBytes(other())}
        </span>
        <span data-testid="disk-free" data-value={d().free_bytes}>
          <i class="swatch st-bar-free" />
          free {fmtBytes(d().free_bytes)}
        </span>
        <span class="muted" data-testid="disk-total" data-value={d().total_bytes}>
          of {fmtBytes(d().total_bytes)} ({usedPct()}% used)
        </span>
      </div>
    </div>
  );
}

function ClusterPanel(props: { c: Cluster }) {
  const c = () => props.c;
  const nodes = () => [...c().nodes].sort((a, b) => a.node_id.localeCompare(b.node_id));
  // The rules go to the smallest id among the nodes announced: this one, or else the first other.
  const evaluator = () => (c().evaluates_rules ? c().node_id : (nodes()[0]?.node_id ?? ''));
  const roleWords = (r: string) => (r === 'query' ? 'query node' : 'writer');
  return (
    <section class="panel" aria-labelledby="st-cluster" data-testid="cluster">
      <div class="panel-head">
        <h2 id="st-cluster">Cluster</h2>
        <span class="muted small">nodes sharing the bucket, as this node last listed them</span>
      </div>
      <table class="st-kv st-cluster-kv">
        <tbody>
          <tr>
            <th>This node</th>
            <td data-testid="cluster-node" data-value={c().node_id}>
              {c().node_id}
            </td>
            <td class="muted" data-testid="cluster-role" data-value={c().role}>
              {roleWords(c().role)}
              {c().advertise_url ? ` at ${c().advertise_url}` : ''}
            </td>
          </tr>
          <tr>
            <th>Bucket</th>
            <td data-testid="cluster-bucket" data-value={c().bucket_failing ? 'failing' : 'ok'} classList={{ 'bad-text': c().bucket_failing }}>
              {c().bucket_failing ? 'unreachable' : 'reachable'}
            </td>
            <td class="muted small">{c().bucket}</td>
          </tr>
          <Show when={c().bucket_failing}>
            <tr>
              <td colspan="3" class="small bad-text" data-testid="cluster-failing">
                The last sync with the bucket failed: new segments stay on this disk and upload when it answers again; queries say in their warnings what they could not read.
              </td>
            </tr>
          </Show>
          <tr>
            <th>Waiting to upload / delete</th>
            <td data-testid="cluster-pending" data-value={`${c().pending_uploads}/${c().pending_deletes}`}>
              {int(c().pending_uploads)} / {int(c().pending_deletes)}
            </td>
            <td class="muted small">segments</td>
          </tr>
          <tr>
            <th>Other writers' segments</th>
            <td data-testid="cluster-foreign" data-value={c().other_writers_segments}>
              {int(c().other_writers_segments)}
            </td>
            <td class="muted small">served from the bucket</td>
          </tr>
          <tr>
            <th>Alert rules evaluated by</th>
            <td data-testid="cluster-rules" data-value={evaluator()}>
              {evaluator()}
            </td>
            <td class="muted small">{c().evaluates_rules ? 'this node' : 'another node'}</td>
          </tr>
        </tbody>
      </table>
      <Show when={nodes().length > 0} fallback={<p class="muted small" data-testid="cluster-alone">No other node has announced itself in the bucket within the listing lag.</p>}>
        <div class="table-wrap">
          <table class="metric-table" data-testid="cluster-nodes">
            <thead>
              <tr>
                <th>Node</th>
                <th>Role</th>
                <th>Address</th>
                <th>Last announced</th>
              </tr>
            </thead>
            <tbody>
              <For each={nodes()}>
                {(n) => (
                  <tr data-testid="cluster-peer" data-node={n.node_id} data-role={n.role}>
                    <td>{n.node_id}</td>
                    <td>{roleWords(n.role)}</td>
                    <td class="small">{n.url}</td>
                    <td class="small">{fmtSpan(Math.max(0, Math.round((Date.now() - n.at_ms) / 1000)))} ago</td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </div>
      </Show>
    </section>
  );
}

export default function StatusPage() {
  const [st, setSt] = createSignal<Status | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const [loading, setLoading] = createSignal(false);
  const [auto, setAuto] = createSignal(true);
  const [updated, setUpdated] = createSignal<number | null>(null);
  const [open, setOpen] = createSignal<Record<string, boolean>>({});
  let abort: AbortController | undefined;

  async function load() {
    if (loading()) return;
    setLoading(true);
    abort = new AbortController();
    try {
      const s = await apiGet<Status>('/api/status', {}, { signal: abort.signal });
      setSt(s);
      setError(null);
      setUpdated(Date.now());
    } catch (e: any) {
      if (e?.name !== 'AbortError') setError(e.message ?? String(e));
    } finally {
      setLoading(false);
    }
  }
  onMount(() => {
    load();
    const t = setInterval(() => auto() && !document.hidden && load(), REFRESH_MS);
    onCleanup(() => {
      clearInterval(t);
      abort?.abort();
    });
  });

  // Keyed by time and text, so a refresh keeps the rows (and what is expanded) in place.
  const problemByKey = createMemo(() => new Map((st()?.problems ?? []).map((p) => [`${p.ts} ${p.line}`, p])));
  const problemKeys = createMemo(() => [...problemByKey().entries()].sort((a, b) => nsMs(b[1].ts) - nsMs(a[1].ts)).map(([k]) => k));
  const targets = () => [...(st()?.targets ?? [])].sort((a, b) => (a.container ?? '').localeCompare(b.container ?? ''));

  return (
    <div class="status" data-testid="status-page">
      <div class="apps-head">
        <h1>Status</h1>
        <Show when={st()}>
          {(s) => (
            <span class="muted small" data-testid="version">
              Bitácora {s().version}, up {fmtSpan(s().uptime_seconds)}
            </span>
          )}
        </Show>
        <span class="grow" />
        <label class="inline small">
          <input type="checkbox" checked={auto()} onChange={(e) => setAuto(e.currentTarget.checked)} data-testid="auto-refresh" />
          every 5 s
        </label>
        <button onClick={load} disabled={loading()}>
          Refresh
        </button>
        <span class="muted small" data-testid="updated">
          {updated() ? `updated ${fmtTime(updated()!, false).slice(11)}` : ''}
        </span>
      </div>
      <Show when={error()}>
        <div class="error" role="alert" data-testid="error">
          Could not load the status: {error()}
        </div>
      </Show>
      <Show when={st()} fallback={<Show when={!error()}><div class="muted pad">Loading…</div></Show>}>
        {(s) => (
          <>
            <Show when={s().disk.full}>
              <div class="st-full" role="alert" data-testid="disk-full">
                <strong>DISK FULL</strong> — pushes are refused (507) and nothing is lost; queries keep working. Free space in the data directory or lower{' '}
                <code>store.retention_max_bytes</code>; writing resumes by itself.
              </div>
            </Show>
            <div class="st-grid">
              <section class="panel" aria-labelledby="st-ingest">
                <h2 id="st-ingest">Ingest</h2>
                <div class="st-stats">
                  <Stat label="lines/s" id="lines-per-second" value={fmtRate(s().ingest.lines_per_second)} raw={s().ingest.lines_per_second} sub={`${int(s().ingest.lines_total)} lines since start`} />
                  <Stat label="bytes/s" id="bytes-per-second" value={`${fmtBytes(s().ingest.bytes_per_second)}/s`} raw={s().ingest.bytes_per_second} sub={`${fmtBytes(s().ingest.bytes_total)} since start`} />
                </div>
                <span class="sr" data-testid="lines-total" data-value={s().ingest.lines_total}>
                  {int(s().ingest.lines_total)}
                </span>
              </section>
              <section class="panel" aria-labelledby="st-disk">
                <h2 id="st-disk">Disk</h2>
                <div class="st-stats">
                  <Stat label="used by Bitácora" id="disk-used" value={fmtBytes(s().disk.segment_bytes + s().disk.wal_bytes)} raw={s().disk.segment_bytes + s().disk.wal_bytes} sub="segments + WAL" bad={s().disk.full} />
                  <Stat label="free" id="free" value={fmtBytes(s().disk.free_bytes)} raw={s().disk.free_bytes} bad={s().disk.full} />
                </div>
                <DiskBar s={s()} />
              </section>
              <section class="panel" aria-labelledby="st-ret">
                <h2 id="st-ret">Retention</h2>
                <div class="st-stats">
                  <Stat label="data is kept" id="horizon" value={s().retention.horizon_seconds === null ? 'for ever' : `≈ ${fmtSpan(s().retention.horizon_seconds!)}`} raw={s().retention.horizon_seconds ?? ''} />
                </div>
                <p class="small st-why" data-testid="limited-by" data-value={s().retention.limited_by}>
                  {limitWords(s())}
                </p>
                <Show when={s().disk.full}>
                  <p class="small bad-text">The disk is full: nothing new is stored until space returns.</p>
                </Show>
                <p class="muted small" data-testid="oldest">
                  <Show when={nsMs(s().retention.oldest_ts) > 0} fallback="Nothing in segments yet (recent lines are in the WAL).">
                    Segments hold {fmtTime(nsMs(s().retention.oldest_ts), false)} to {fmtTime(nsMs(s().retention.newest_ts), false)}.
                  </Show>
                </p>
              </section>
              <section class="panel" aria-labelledby="st-files">
                <h2 id="st-files">Files and streams</h2>
                <table class="st-kv">
                  <tbody>
                    <tr>
                      <th>Segments</th>
                      <td data-testid="segments" data-value={s().disk.segments}>
                        {int(s().disk.segments)}
                      </td>
                      <td class="muted">{fmtBytes(s().disk.segment_bytes)}</td>
                    </tr>
                    <tr>
                      <th>WAL files</th>
                      <td data-testid="wal-files" data-value={s().disk.wal_files}>
                        {int(s().disk.wal_files)}
                      </td>
                      <td class="muted" data-testid="wal-bytes" data-value={s().disk.wal_bytes}>
                        {fmtBytes(s().disk.wal_bytes)}
                      </td>
                    </tr>
                    <tr>
                      <th>In memory</th>
                      <td />
                      <td class="muted">{fmtBytes(s().disk.head_bytes)}</td>
                    </tr>
                    <tr>
                      <th>Open segment files</th>
                      <td data-testid="open-files" data-value={s().disk.open_segment_files}>
                        {int(s().disk.open_segment_files)}
                      </td>
                      <td />
                    </tr>
                    <tr>
                      <th>Streams active / total</th>
                      <td data-testid="streams" data-value={`${s().streams.active}/${s().streams.total}`}>
                        {int(s().streams.active)} / {int(s().streams.total)}
                      </td>
                      <td />
                    </tr>
                  </tbody>
                </table>
              </section>
            </div>

            <Show when={s().cluster}>{(c) => <ClusterPanel c={c()} />}</Show>

            <section class="panel" aria-labelledby="st-targets">
              <div class="panel-head">
                <h2 id="st-targets">Agent targets</h2>
                <span class="muted small">{targets().length} containers</span>
              </div>
              <Show when={targets().length > 0} fallback={<p class="muted small" data-testid="no-targets">No containers: the agent runs with <code>bitacora run</code> (or <code>bitacora agent</code>, whose targets are on its own metrics port).</p>}>
                <div class="table-wrap">
                  <table class="metric-table st-targets" data-testid="targets">
                    <thead>
                      <tr>
                        <th>Container</th>
                        <th>
                          <span class="st-wide">Lines read</span>
                          <span class="st-narrow">Read</span>
                        </th>
                        <th>
                          <span class="st-wide">Lines sent</span>
                          <span class="st-narrow">Sent</span>
                        </th>
                        <th title="Bytes written by Docker and not read yet">Lag</th>
                        <th title="Lines the store refused">Dropped</th>
                        <th title="Log files rotated away before they were read">
                          <span class="st-wide">Files lost</span>
                          <span class="st-narrow">Lost</span>
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      <For each={targets()}>
                        {(t) => {
                          const state = targetState(t);
                          return (
                            <tr class={`st-${state}`} data-testid="target" data-container={t.container} data-state={state}>
                              <td>
                                <a href={exploreUrl(`{container_name=${JSON.stringify(t.container ?? '')}}`)} onClick={linkClick}>
                                  {t.container}
                                </a>
                              </td>
                              <td data-key="lines_read">{int(t.lines_read ?? 0)}</td>
                              <td data-key="lines_sent">{int(t.lines_sent ?? 0)}</td>
                              <td data-key="lag_bytes">{fmtBytes(t.lag_bytes ?? 0)}</td>
                              <td data-key="lines_dropped">{int(t.lines_dropped ?? 0)}</td>
                              <td data-key="files_lost">{int(t.files_lost ?? 0)}</td>
                            </tr>
                          );
                        }}
                      </For>
                    </tbody>
                  </table>
                </div>
              </Show>
            </section>

            <section class="panel" aria-labelledby="st-problems">
              <div class="panel-head">
                <h2 id="st-problems">Last problems</h2>
                <span class="muted small">warnings and errors of Bitácora's own log, newest first</span>
                <a class="small" href={exploreUrl('{app="bitacora", level=~"warn|error"}', 'now-24h')} onClick={linkClick}>
                  all in Explore
                </a>
              </div>
              <Show when={problemKeys().length > 0} fallback={<p class="muted small" data-testid="no-problems">No warnings or errors since the start.</p>}>
                <ol class="st-problems" data-testid="problems">
                  <For each={problemKeys()}>
                    {(key) => {
                      const p = problemByKey().get(key)!;
                      const ms = nsMs(p.ts);
                      const text = p.line.replace(/^level=\w+ /, '');
                      // A "more" button only when the two-line clamp hides something.
                      const [long, setLong] = createSignal(false);
                      const measure = (el: HTMLElement) => requestAnimationFrame(() => setLong(el.scrollHeight > el.clientHeight + 1));
                      return (
                        <li class={`st-problem lvl-${p.level === 'warn' ? 'warn' : 'error'}`} data-testid="problem" data-level={p.level}>
                          <span class="st-lvl">{p.level}</span>
                          <a class="ts small" href={exploreUrl(SELF, String(ms - 60_000), String(ms + 60_000))} onClick={linkClick} title={`Open ${SELF} around this time in Explore`} data-testid="problem-link">
                            {fmtTime(ms, false)}
                          </a>
                          <span class="st-pline" classList={{ clamp: !open()[key] }} data-testid="problem-line" ref={measure}>
                            {text}
                          </span>
                          <Show when={long() || open()[key]}>
                            <button class="icon small" aria-expanded={!!open()[key]} onClick={() => setOpen((o) => ({ ...o, [key]: !o[key] }))}>
                              {open()[key] ? 'less' : 'more'}
                            </button>
                          </Show>
                        </li>
                      );
                    }}
                  </For>
                </ol>
              </Show>
            </section>
          </>
        )}
      </Show>
    </div>
  );
}
