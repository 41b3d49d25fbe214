// Apps: every Dokku app (and every other container, by name), its process types and containers,
// lines and errors per minute over the last hour, and its last error line.
import { createMemo, createSignal, For, onCleanup, onMount, Show } from 'solid-js';
import { apiGet, flattenStreams, queryRange } from './api';
import { sparkline } from './spark';
import { exploreUrl, linkClick, navigate } from './router';
import { fmtTime } from './time';
import { stripAnsi } from './ansi';

const ERR = 'detected_level=~"error|critical|fatal"';

interface AppEntry {
  kind: 'app' | 'container';
  name: string;
  selector: string;
  processTypes: string[];
  containers: string[];
  lines: number[];
  errors: number[];
}

const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

async function perMinute(query: string, by: string, start: number, end: number) {
  const res = await apiGet('/loki/api/v1/query_range', { query, start: `${start}000000`, end: `${end}000000`, step: '60s' });
  const out = new Map<string, number[]>();
  const first = Math.floor(start / 60000) * 60;
  for (const s of res.data?.result ?? []) {
    const arr = new Array(62).fill(0);
    for (const [t, v] of s.values) {
      const i = Math.round((t - first) / 60);
      if (i >= 0 && i < arr.length) arr[i] += Number(v);
    }
    out.set(s.metric[by] ?? '', arr);
  }
  return out;
}

async function pool<T>(items: T[], n: number, f: (t: T) => Promise<void>) {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await f(items[i++]);
  }));
}

export default function Apps() {
  const [apps, setApps] = createSignal<AppEntry[]>([]);
  const [error, setError] = createSignal<string | null>(null);
  const [loading, setLoading] = createSignal(true);
  const [filter, setFilter] = createSignal(new URLSearchParams(location.search).get('q') ?? '');
  const [sort, setSort] = createSignal<'name' | 'lines' | 'errors'>('name');
  const [updated, setUpdated] = createSignal<number | null>(null);
  const [lastErrors, setLastErrors] = createSignal<Record<string, { ms: number; line: string } | null>>({});

  async function load() {
    setLoading(true);
    const end = Date.now();
    const start = end - 3600e3;
    try {
      const [series, appLines, appErrors, ctrLines, ctrErrors] = await Promise.all([
        apiGet('/loki/api/v1/series', { 'match[]': ['{app=~".+"}', '{container_name=~".+"}'], start: `${end - 24 * 3600e3}000000`, end: `${end}000000` }),
        perMinute('sum by (app) (count_over_time({app=~".+", source!="docker"}[1m]))', 'app', start, end),
        perMinute(`sum by (app) (count_over_time({app=~".+", source!="docker"} | ${ERR} [1m]))`, 'app', start, end),
        perMinute('sum by (container_name) (count_over_time({container_name=~".+", app="", source!="docker"}[1m]))', 'container_name', start, end),
        perMinute(`sum by (container_name) (count_over_time({container_name=~".+", app="", source!="docker"} | ${ERR} [1m]))`, 'container_name', start, end),
      ]);
      const byKey = new Map<string, AppEntry>();
      const zero = () => new Array(62).fill(0);
      for (const s of (series.data ?? []) as Record<string, string>[]) {
        const kind = s.app ? 'app' : 'container';
        const name = s.app ?? s.container_name;
        if (!name) continue;
        const key = `${kind}:${name}`;
        let e = byKey.get(key);
        if (!e) {
          e = {
            kind,
            name,
            selector: kind === 'app' ? `{app=${JSON.stringify(name)}}` : `{container_name=${JSON.stringify(name)}}`,
            processTypes: [],
            containers: [],
            lines: (kind === 'app' ? appLines : ctrLines).get(name) ?? zero(),
            errors: (kind === 'app' ? appErrors : ctrErrors).get(name) ?? zero(),
          };
          byKey.set(key, e);
        }
        if (s.process_type && !e.processTypes.includes(s.process_type)) e.processTypes.push(s.process_type);
        if (s.container_name && !e.containers.includes(s.container_name)) e.containers.push(s.container_name);
      }
      const list = [...byKey.values()];
      for (const e of list) e.processTypes.sort(), e.containers.sort();
      setApps(list);
      setError(null);
      setUpdated(Date.now());
      // Last error line of each app: one small query each, a few at a time.
      await pool(list, 4, async (e) => {
        try {
          const res = await queryRange(`${e.selector} | ${ERR}`, { start: `${end - 24 * 3600e3}000000`, end: `${end + 1000}000000`, limit: 1, direction: 'backward' });
          const r = flattenStreams(res.data?.result ?? [])[0];
          setLastErrors((m) => ({ ...m, [e.selector]: r ? { ms: r.ms, line: stripAnsi(r.line) } : null }));
        } catch {
          setLastErrors((m) => ({ ...m, [e.selector]: null }));
        }
      });
    } catch (e: any) {
      setError(e.message ?? String(e));
    } finally {
      setLoading(false);
    }
  }
  onMount(() => {
    load();
    const t = setInterval(() => !document.hidden && load(), 60_000);
    onCleanup(() => clearInterval(t));
  });

  const shown = createMemo(() => {
    const f = filter().trim().toLowerCase();
    const list = apps().filter((a) => !f || a.name.toLowerCase().includes(f) || a.processTypes.some((p) => p.includes(f)) || a.containers.some((c) => c.toLowerCase().includes(f)));
    const s = sort();
    return list.sort((a, b) => (s === 'lines' ? sum(b.lines) - sum(a.lines) : s === 'errors' ? sum(b.errors) - sum(a.errors) : 0) || (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'app' ? -1 : 1));
  });

  return (
    <div class="apps">
      <div class="apps-head">
        <h1>Apps</h1>
        <input
          type="search"
          class="search"
          placeholder="Filter apps, process types, containers"
          aria-label="Filter apps"
          value={filter()}
          onInput={(e) => setFilter(e.currentTarget.value)}
          data-testid="apps-search"
        />
        <select value={sort()} onChange={(e) => setSort(e.currentTarget.value as any)} aria-label="Sort">
          <option value="name">By name</option>
          <option value="lines">Most lines</option>
          <option value="errors">Most errors</option>
        </select>
        <button onClick={load} disabled={loading()}>
          {loading() ? 'Loading…' : 'Refresh'}
        </button>
        <span class="muted small">last hour{updated() ? `, updated ${fmtTime(updated()!, false).slice(11)}` : ''}</span>
      </div>
      <Show when={error()}>
        <div class="error" role="alert" data-testid="error">
          Could not load the apps: {error()}
        </div>
      </Show>
      <Show when={!loading() && !error() && apps().length === 0}>
        <div class="hint">
          <p>No logs yet. Bitácora lists every Dokku app and container here once their logs arrive (run <code>bitacora run</code> on the Docker host, or push to <code>/loki/api/v1/push</code>).</p>
        </div>
      </Show>
      <div class="app-list" role="list" data-testid="app-list">
        <For each={shown()}>
          {(a) => {
            const url = exploreUrl(a.selector);
            return (
              <div class="app-card" role="listitem" data-testid="app" data-name={a.name} data-kind={a.kind} onClick={(e) => !(e.target as HTMLElement).closest('a') && navigate(url)}>
                <div class="app-name">
                  <a href={url} onClick={linkClick} data-testid="app-link">
                    {a.name}
                  </a>
                  <span class="badge">{a.kind}</span>
                </div>
                <div class="app-procs">
                  <For each={a.processTypes}>{(p) => <span class="chip small">{p}</span>}</For>
                  <span class="muted small ctrs" title={a.containers.join(', ')} data-testid="containers">
                    {a.containers.length} container{a.containers.length === 1 ? '' : 's'}: {a.containers.join(', ')}
                  </span>
                </div>
                <div class="app-metric">
                  <span class="num" data-testid="lines-hour">{sum(a.lines)}</span>
                  <span class="muted small">lines/h</span>
                  <span innerHTML={sparkline(a.lines, '#3e8ef7')} title="Log lines per minute, last hour" />
                </div>
                <div class="app-metric">
                  <span class="num" classList={{ bad: sum(a.errors) > 0 }} data-testid="errors-hour">
                    {sum(a.errors)}
                  </span>
                  <span class="muted small">errors/h</span>
                  <span innerHTML={sparkline(a.errors, '#e5484d')} title="Error lines per minute, last hour" />
                </div>
                <div class="app-lasterr" data-testid="last-error">
                  <Show when={lastErrors()[a.selector] !== undefined} fallback={<span class="muted small">…</span>}>
                    <Show when={lastErrors()[a.selector]} fallback={<span class="muted small">no errors in 24 h</span>}>
                      {(le) => (
                        <a href={exploreUrl(`${a.selector} | ${ERR}`, 'now-24h')} onClick={linkClick} class="errline" title={le().line}>
                          <time class="muted small">{fmtTime(le().ms, false)}</time> {le().line}
                        </a>
                      )}
                    </Show>
                  </Show>
                </div>
              </div>
            );
          }}
        </For>
      </div>
    </div>
  );
}
