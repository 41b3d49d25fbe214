// The container view (`/apps/container/<id>`), Dozzle-like: one container's stdout and stderr
// interleaved live with a stream marker per line, its Docker events inline, search, pause, and
// CPU and memory drawn live from `GET /api/apps/containers/{id}` (polled every 2 s). It follows
// the dyno through a deploy: when a deploy event names this container as the one replaced, the
// view goes on with the new container (lines, events, state) under the new address.
import { createMemo, createSignal, For, onCleanup, onMount, Show } from 'solid-js';
import { queryRange, type LogRow } from '../../api';
import { path } from '../../router';
import { fmtTime } from '../../time';
import { useNow } from '../clock';
import { RestartWatch } from '../restarts';
import { containerUrl, fetchContainer, shortId, type Container } from '../types';
import { createRowBuffer, eventRow, lineRow, type ViewRow } from './buffer';
import { logfmt } from './events';
import { Header } from './header';
import { LogView } from './logview';
import { Stats, WINDOW_MS, type Sample } from './stats';
import { openTail, type TailHandle } from './tail';
import '../apps.css';
import './container.css';

const POLL_MS = 2000;
const q = (v: string) => JSON.stringify(v);

/** The LogQL queries of a container's lines and of its events. */
export function containerQueries(c: Container) {
  const id = shortId(c.id);
  return {
    lines: `{container_name=${q(c.name)}, source!="docker"} | container_id=${q(id)}`,
    // Its own events, and the deploy that replaces it (which names it as `old_id`).
    events: `${c.app ? `{source="docker", app=${q(c.app)}}` : `{source="docker", container_name=${q(c.name)}}`} | logfmt | id=${q(id)} or old_id=${q(id)}`,
  };
}

/** A deploy that replaced the container shown: from which id to which, when. */
interface Followed {
  from: string;
  to: string;
  ms: number;
}

/** The container that replaced `id` in a deploy of the last 24 h, from the recorded events. */
async function successor(id: string, signal: AbortSignal): Promise<{ to: string; ms: number } | null> {
  const now = Date.now();
  const r: any = await queryRange(`{source="docker"} |= ${q(`old_id=${id}`)} | logfmt | event="deploy"`, { start: `${now - 86400e3}000000`, end: `${now + 1000}000000`, limit: 1, direction: 'backward' }, signal);
  for (const s of r?.data?.result ?? []) for (const [ts, line] of s.values ?? []) {
    const f = logfmt(line);
    if (f.id && f.old_id === id) return { to: f.id, ms: Number(BigInt(ts) / 1000000n) };
  }
  return null;
}

function ContainerView(props: { id: string }) {
  const [id, setId] = createSignal(props.id);
  const [followed, setFollowed] = createSignal<Followed[]>([]);
  const [ctr, setCtr] = createSignal<Container | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const [samples, setSamples] = createSignal<Sample[]>([]);
  const [search, setSearch] = createSignal('');
  const [streams, setStreams] = createSignal<'all' | 'stdout' | 'stderr'>('all');
  const [lineStatus, setLineStatus] = createSignal('');
  const [eventStatus, setEventStatus] = createSignal('');
  const buf = createRowBuffer();
  const watch = new RestartWatch();
  const now = useNow();
  const tails: TailHandle[] = [];
  // Event rows already shown (a deploy is seen by the old container's tail and the new one's).
  const seenEvents = new Set<string>();
  let inflight: AbortController | undefined;
  let tailsFor = '';
  let lookedForSuccessor = false;

  function eventRows(rows: LogRow[]) {
    const out: ViewRow[] = [];
    for (const r of rows) {
      const key = `${r.ts}\0${r.line}`;
      if (seenEvents.has(key)) continue;
      seenEvents.add(key);
      const v = eventRow(r);
      if (!v) continue;
      out.push(v);
      const f = v.event?.event === 'deploy' ? logfmt(r.line) : null;
      if (f?.id && f.old_id === shortId(id()) && f.id !== shortId(id())) follow(f.id, r.ms);
    }
    buf.add(out);
  }

  function startTails(c: Container, sinceMs?: number) {
    tailsFor = c.id;
    const created = Date.parse(c.created_at ?? '');
    const since = Math.floor(sinceMs ?? (Number.isFinite(created) && created > 0 ? created - 60_000 : Date.now() - 3600e3));
    const qs = containerQueries(c);
    tails.push(openTail(qs.lines, { startNs: `${since}000000`, limit: 1000 }, (rows) => buf.add(rows.map(lineRow)), setLineStatus));
    tails.push(openTail(qs.events, { startNs: `${since}000000`, limit: 500 }, eventRows, setEventStatus));
  }

  /** Goes on with the container that replaced this one: same view, its lines and events added. */
  function follow(to: string, ms: number) {
    const from = shortId(id());
    for (const h of tails.splice(0)) h.close();
    tailsFor = '';
    setFollowed((f) => [...f, { from, to, ms }]);
    setId(to);
    setError(null);
    history.replaceState(history.state, '', containerUrl(to));
    inflight?.abort();
    inflight = undefined;
    poll();
  }

  async function poll() {
    if (inflight) return;
    const ac = (inflight = new AbortController());
    const asked = id();
    try {
      const c = await fetchContainer(asked, ac.signal);
      if (asked !== id()) return;
      watch.observe([c]);
      setCtr(c);
      setError(null);
      const t = Date.now();
      setSamples((s) => [...s.filter((x) => t - x.t <= WINDOW_MS), { t, cpu: c.cpu_percent, mem: c.memory_bytes }]);
      if (tailsFor !== c.id) {
        // After a deploy, the new container's lines from a minute before it was created.
        const created = Date.parse(c.created_at ?? '');
        startTails(c, followed().length && Number.isFinite(created) ? Math.min(created, followed()[followed().length - 1].ms) - 60_000 : undefined);
      }
    } catch (e: any) {
      if (e?.name === 'AbortError' || asked !== id()) return;
      if (e?.status === 404 && !lookedForSuccessor) {
        // An old address: a deploy may have replaced this container since.
        lookedForSuccessor = true;
        const next = await successor(shortId(asked), ac.signal).catch(() => null);
        if (next && asked === id()) {
          inflight = undefined;
          follow(next.to, next.ms);
          return;
        }
      }
      setError(e?.status === 404 ? `No container ${asked} on this Docker host (removed, or on another host). ${e.message}` : `Could not load the container: ${e.message ?? e}`);
      // A gap in the charts while the figures are missing.
      setSamples((s) => [...s, { t: Date.now(), cpu: null, mem: null }]);
    } finally {
      if (inflight === ac) inflight = undefined;
    }
  }
  onMount(() => {
    poll();
    const t = setInterval(() => !document.hidden && poll(), POLL_MS);
    onCleanup(() => {
      clearInterval(t);
      inflight?.abort();
      for (const h of tails) h.close();
      buf.dispose();
    });
  });

  const pattern = createMemo(() => {
    const s = search().trim();
    return s ? new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi') : null;
  });
  const shown = createMemo(() => {
    const s = search().trim().toLowerCase();
    const which = streams();
    return buf.rows().filter((r) => (which === 'all' || r.stream === which || r.stream === 'event') && (!s || r.plain.toLowerCase().includes(s)));
  });
  // The engine gives full 64-hex ids; recorded events carry 12 (contract 13 B).
  const statsNote = () => {
    const c = ctr();
    if (!c) return '';
    if (c.state !== 'running') return `Not running (${c.state}): no CPU and memory figures.`;
    const l = samples()[samples().length - 1];
    if (l && l.cpu === null && l.mem === null) return 'Reading the Docker engine’s stats (the first CPU figure needs two samples)…';
    if (l && l.cpu === null) return 'CPU needs a second sample…';
    return '';
  };
  const status = () => {
    const a = lineStatus();
    const b = eventStatus();
    return a === b ? a : `lines: ${a || '…'} · events: ${b || '…'}`;
  };

  return (
    <div class="cv" data-testid="container-view">
      <Show when={error()}>
        <div class="error" role="alert" data-testid="error">
          {error()}
        </div>
      </Show>
      <Show when={ctr()} fallback={<Show when={!error()}>{<div class="muted pad">Loading the container…</div>}</Show>}>
        {(c) => (
          <>
            <Header c={c()} now={now()} looping={watch.looping(c(), now())} logQuery={containerQueries(c()).lines} />
            <For each={followed()}>
              {(f) => (
                <p class="cv-followed small" role="status" data-testid="cv-followed">
                  ⇪ Replaced by a deploy at {fmtTime(f.ms, false)}: now following <code>{f.to}</code> (was <code>{f.from}</code>); the lines below continue across it.
                </p>
              )}
            </For>
            <Show
              when={c().id.length === 64}
              fallback={
                <p class="muted small" data-testid="stats-note">
                  No Docker engine on this server: this state comes from the container’s recorded events, and there are no CPU and memory figures.
                </p>
              }
            >
              <Show when={c().state === 'running' || samples().some((x) => x.cpu !== null || x.mem !== null)} fallback={<p class="muted small" data-testid="stats-note">{statsNote()}</p>}>
                <Stats samples={samples()} limit={c().memory_limit_bytes} now={now()} note={statsNote()} />
              </Show>
            </Show>
            <div class="cv-bar">
              <input
                type="search"
                class="search"
                placeholder="Search these lines"
                aria-label="Search the container's lines"
                value={search()}
                onInput={(e) => setSearch(e.currentTarget.value)}
                data-testid="cv-search"
              />
              <div class="chips" role="group" aria-label="Streams">
                {(['all', 'stdout', 'stderr'] as const).map((s) => (
                  <button class="chip" classList={{ on: streams() === s }} aria-pressed={streams() === s} onClick={() => setStreams(s)} data-testid={`cv-streams-${s}`}>
                    {s}
                  </button>
                ))}
              </div>
              <button onClick={() => (buf.paused() ? buf.resume() : buf.pause())} aria-pressed={buf.paused()} data-testid="cv-pause">
                {buf.paused() ? `Resume${buf.waiting() ? ` (${buf.waiting()} new)` : ''}` : 'Pause'}
              </button>
              <span class="muted small" data-testid="cv-status">
                {buf.paused() ? <span data-testid="cv-waiting">Paused · {buf.waiting()} new line{buf.waiting() === 1 ? '' : 's'} waiting</span> : status()}
              </span>
              <span class="muted small grow-r" data-testid="cv-count">
                {shown().length === buf.rows().length ? `${buf.rows().length} rows` : `${shown().length} of ${buf.rows().length} rows`}
              </span>
            </div>
            <LogView rows={shown()} search={pattern()} total={buf.rows().length} />
          </>
        )}
      </Show>
    </div>
  );
}

export default function ContainerPage() {
  const pathId = () => decodeURIComponent(path().split('/')[3] ?? '');
  return (
    <Show when={pathId()} keyed fallback={<div class="error">No container id in this address.</div>}>
      {(i) => <ContainerView id={i} />}
    </Show>
  );
}
