// Apps: every Dokku app (and every other container) with its containers' state now, restarts,
// uptime, last deploy, lines and errors per minute over the last hour, and its last error line.
// Polls `GET /api/apps` every 15 s while the tab is visible.
import { createMemo, createSignal, For, onCleanup, onMount, Show } from 'solid-js';
import { fmtTime } from '../time';
import { AppCard, restartsOf, sum } from './appcard';
import { useNow } from './clock';
import { RestartWatch } from './restarts';
import { fetchApps, type AppsAnswer } from './types';
import './apps.css';

const POLL_MS = 15_000;
type SortKey = 'name' | 'lines' | 'errors' | 'restarts';

export default function Apps() {
  const [answer, setAnswer] = createSignal<AppsAnswer | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const [loading, setLoading] = createSignal(true);
  const [filter, setFilter] = createSignal(new URLSearchParams(location.search).get('q') ?? '');
  const [sort, setSort] = createSignal<SortKey>('name');
  const [updated, setUpdated] = createSignal<number | null>(null);
  const watch = new RestartWatch();
  const now = useNow();
  let inflight: AbortController | undefined;

  async function load() {
    inflight?.abort();
    const ac = (inflight = new AbortController());
    setLoading(true);
    try {
      const a = await fetchApps(ac.signal);
      for (const app of a.apps) watch.observe(app.containers);
      setAnswer(a);
      setError(null);
      setUpdated(Date.now());
    } catch (e: any) {
      if (e?.name === 'AbortError') return;
      setError(e.message ?? String(e));
    } finally {
      if (inflight === ac) setLoading(false);
    }
  }
  onMount(() => {
    load();
    const t = setInterval(() => !document.hidden && load(), POLL_MS);
    // Back from a hidden tab: the state shown may be minutes old.
    const vis = () => !document.hidden && updated() !== null && Date.now() - updated()! > POLL_MS && load();
    document.addEventListener('visibilitychange', vis);
    onCleanup(() => {
      clearInterval(t);
      document.removeEventListener('visibilitychange', vis);
      inflight?.abort();
    });
  });

  const apps = () => answer()?.apps ?? [];
  const shown = createMemo(() => {
    const f = filter().trim().toLowerCase();
    const list = apps().filter(
      (a) =>
        !f ||
        a.name.toLowerCase().includes(f) ||
        a.process_types.some((p) => p.toLowerCase().includes(f)) ||
        a.containers.some((c) => c.name.toLowerCase().includes(f) || c.docker_name.toLowerCase().includes(f) || c.image.toLowerCase().includes(f)),
    );
    const s = sort();
    const key = (a: (typeof list)[0]) => (s === 'lines' ? sum(a.lines_per_minute) : s === 'errors' ? sum(a.errors_per_minute) : s === 'restarts' ? restartsOf(a) : 0);
    return [...list].sort((a, b) => key(b) - key(a) || (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'app' ? -1 : 1));
  });

  return (
    <div class="apps">
      <div class="apps-head">
        <h1>Apps</h1>
        <input
          type="search"
          class="search"
          placeholder="Filter apps, process types, containers, images"
          aria-label="Filter apps"
          value={filter()}
          onInput={(e) => setFilter(e.currentTarget.value)}
          data-testid="apps-search"
        />
        <select value={sort()} onChange={(e) => setSort(e.currentTarget.value as SortKey)} aria-label="Sort">
          <option value="name">By name</option>
          <option value="lines">Most lines</option>
          <option value="errors">Most errors</option>
          <option value="restarts">Most restarts</option>
        </select>
        <button onClick={load} disabled={loading()}>
          {loading() ? 'Loading…' : 'Refresh'}
        </button>
        <span class="muted small">last hour{updated() ? `, updated ${fmtTime(updated()!, false).slice(11)}` : ''}</span>
      </div>
      <Show when={answer() && !answer()!.engine}>
        <div class="hint small" data-testid="no-engine">
          No Docker engine on this server: container states come from the recorded Docker events of the last 24 hours (the agent on the Docker host records them), and CPU and memory are not
          available.
        </div>
      </Show>
      <Show when={error()}>
        <div class="error" role="alert" data-testid="error">
          Could not load the apps: {error()}
        </div>
      </Show>
      <Show when={answer() && !error() && apps().length === 0}>
        <div class="hint">
          <p>
            No apps yet. Bitácora lists every Dokku app and container here once their logs or events arrive (run <code>bitacora run</code> on the Docker host, or push to{' '}
            <code>/loki/api/v1/push</code>).
          </p>
        </div>
      </Show>
      <Show when={answer() && apps().length > 0 && shown().length === 0}>
        <p class="muted">Nothing matches “{filter()}”.</p>
      </Show>
      <div class="app-list" role="list" data-testid="app-list">
        <For each={shown()}>{(a) => <AppCard app={a} now={now()} watch={watch} />}</For>
      </div>
    </div>
  );
}
