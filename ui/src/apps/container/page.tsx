// The container view (`/apps/container/<id>`), Dozzle-like: one container's stdout and stderr
// interleaved live with a stream marker per line, its Docker events inline, search, pause, and
// CPU and memory drawn live from `GET /api/apps/containers/{id}` (polled every 2 s).
import { createMemo, createSignal, onCleanup, onMount, Show } from 'solid-js';
import { path } from '../../router';
import { useNow } from '../clock';
import { RestartWatch } from '../restarts';
import { fetchContainer, shortId, type Container } from '../types';
import { createRowBuffer, eventRow, lineRow, type ViewRow } from './buffer';
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
    events: c.app ? `{source="docker", app=${q(c.app)}} | logfmt | id=${q(id)}` : `{source="docker", container_name=${q(c.name)}} | logfmt | id=${q(id)}`,
  };
}

function ContainerView(props: { id: string }) {
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
  let inflight: AbortController | undefined;

  function startTails(c: Container) {
    const created = Date.parse(c.created_at ?? '');
    const since = Number.isFinite(created) && created > 0 ? created - 60_000 : Date.now() - 3600e3;
    const qs = containerQueries(c);
    tails.push(openTail(qs.lines, { startNs: `${since}000000`, limit: 1000 }, (rows) => buf.add(rows.map(lineRow)), setLineStatus));
    tails.push(
      openTail(qs.events, { startNs: `${since}000000`, limit: 500 }, (rows) => buf.add(rows.map(eventRow).filter((r): r is ViewRow => r !== null)), setEventStatus),
    );
  }

  async function poll() {
    if (inflight) return;
    const ac = (inflight = new AbortController());
    try {
      const c = await fetchContainer(props.id, ac.signal);
      watch.observe([c]);
      const first = !ctr();
      setCtr(c);
      setError(null);
      const t = Date.now();
      setSamples((s) => [...s.filter((x) => t - x.t <= WINDOW_MS), { t, cpu: c.cpu_percent, mem: c.memory_bytes }]);
      if (first) startTails(c);
    } catch (e: any) {
      if (e?.name === 'AbortError') return;
      setError(e?.status === 404 ? `No container ${props.id} on this Docker host (removed, or on another host). ${e.message}` : `Could not load the container: ${e.message ?? e}`);
      // A gap in the charts while the figures are missing.
      setSamples((s) => [...s, { t: Date.now(), cpu: null, mem: null }]);
    } finally {
      inflight = undefined;
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
  const id = () => decodeURIComponent(path().split('/')[3] ?? '');
  return (
    <Show when={id()} keyed fallback={<div class="error">No container id in this address.</div>}>
      {(i) => <ContainerView id={i} />}
    </Show>
  );
}
