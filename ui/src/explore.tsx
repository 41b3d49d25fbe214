// Explore: the query editor, time range, log volume, log list or metric chart, live tail, all in the URL.
import { batch, createEffect, createMemo, createSignal, For, lazy, on, onCleanup, onMount, Show } from 'solid-js';
import { apiGet, ApiError, cmpTs, flattenStreams, labelSelector, queryRange, seriesName, type LogRow, type MatrixSeries } from './api';
import { createEditor, isMetric, type QueryEditor } from './editor';
import { drawHistogram, drawTimeseries, levelColour, LEVEL_ORDER, seriesColour, shortNum, type Histogram } from './charts';
import { LogList, type FilterAction } from './loglist';
import { LabelBrowser } from './labelbrowser';
import { matchPatterns, stripAnsi } from './ansi';
import { withLabelFilter, withStreamMatcher } from './querymod';
import { fmtDuration, isRelative, niceStep, parseDuration, resolveRange, type Range } from './time';
import { loadVolume } from './volume';
import { ContextView } from './contextview';
import { LabelTagsPicker, loadTags, saveTags } from './labeltags';
import { appOfQuery, loadMarkers, markersOn, type Marker } from './markers/events';
import { markersPlugin } from './markers/draw';
import { MarkersToggle } from './markers/toggle';
import { DeployCompare } from './markers/compare';
import { navigate } from './router';
import { closeOnOutside, TimePicker } from './timepicker';
import { builtinVars, interpolate } from './dashboards/interpolate';
import { theme } from './theme';

const AddToDashboard = lazy(() => import('./dashboards/edit/addtodash').then((m) => ({ default: m.AddToDashboard })));

const LIVE_MAX = 1000;
const HISTORY_KEY = 'bitacora.history';

interface ExploreState {
  query: string;
  from: string;
  to: string;
  live: boolean;
  refresh: string;
  limit: number;
  order: 'newest' | 'oldest';
}

function readUrl(): ExploreState {
  const p = new URLSearchParams(location.search);
  const limit = Number(p.get('limit'));
  return {
    query: p.get('query') ?? '',
    from: p.get('from') ?? 'now-1h',
    to: p.get('to') ?? 'now',
    live: p.get('live') === '1' || p.get('live') === 'true',
    refresh: p.get('refresh') ?? '',
    limit: limit > 0 ? Math.min(limit, 5000) : 1000,
    order: p.get('order') === 'oldest' ? 'oldest' : 'newest',
  };
}

function writeUrl(s: ExploreState, push: boolean) {
  const p = new URLSearchParams();
  p.set('query', s.query);
  p.set('from', s.from);
  p.set('to', s.to);
  if (s.live) p.set('live', '1');
  if (s.refresh) p.set('refresh', s.refresh);
  if (s.limit !== 1000) p.set('limit', String(s.limit));
  if (s.order !== 'newest') p.set('order', s.order);
  const url = `/explore?${p}`;
  try {
    sessionStorage.setItem('bitacora.lastExplore', url);
  } catch {}
  if (url === location.pathname + location.search) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

function loadHistory(): string[] {
  try {
    return JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]');
  } catch {
    return [];
  }
}
function saveHistory(q: string) {
  const h = [q, ...loadHistory().filter((x) => x !== q)].slice(0, 50);
  try {
    localStorage.setItem(HISTORY_KEY, JSON.stringify(h));
  } catch {}
}

/** Opens the rule editor with the query (a log query becomes its count of lines over 5 minutes). */
function alertOn(q: string) {
  const query = q.trim();
  navigate(`/alerting/new?${new URLSearchParams({ expr: isMetric(query) ? query : `sum(count_over_time(${query} [5m]))` })}`);
}

const pref = (k: string, d: boolean) => {
  const v = localStorage.getItem(`bitacora.${k}`);
  return v === null ? d : v === '1';
};

export default function Explore() {
  const init = readUrl();
  const [st, setSt] = createSignal<ExploreState>(init);
  const [draft, setDraft] = createSignal(init.query);
  const [error, setError] = createSignal<string | null>(null);
  const [loading, setLoading] = createSignal(false);
  const [rows, setRows] = createSignal<LogRow[]>([]);
  const [hist, setHist] = createSignal<(Histogram & { total: number }) | null>(null);
  const [histError, setHistError] = createSignal<string | null>(null);
  const [matrix, setMatrix] = createSignal<{ times: number[]; series: MatrixSeries[]; step: number } | null>(null);
  const [ranRange, setRanRange] = createSignal<Range>({ from: Date.now() - 3600e3, to: Date.now() });
  const [mode, setMode] = createSignal<'logs' | 'metric' | 'none'>('none');
  const [wrap, setWrap] = createSignal(pref('wrap', false));
  const [showTime, setShowTime] = createSignal(pref('time', true));
  const [showBrowser, setShowBrowser] = createSignal(false);
  const [adding, setAdding] = createSignal(false);
  const [ctxRow, setCtxRow] = createSignal<LogRow | null>(null);
  const [renderMs, setRenderMs] = createSignal<number | null>(null);
  const [took, setTook] = createSignal<number | null>(null);
  const [more, setMore] = createSignal(false);
  const [processed, setProcessed] = createSignal<number | null>(null);
  const [loadingMore, setLoadingMore] = createSignal(false);
  // live tail
  const [liveRows, setLiveRows] = createSignal<LogRow[]>([]);
  const [paused, setPaused] = createSignal(false);
  const [pendingCount, setPendingCount] = createSignal(0);
  const [rate, setRate] = createSignal(0);
  const [liveStatus, setLiveStatus] = createSignal('');
  const [hint, setHint] = createSignal<{ line: number; col: number } | null>(null);
  const [tags, setTags] = createSignal<string[]>(loadTags());
  // deploy and crash markers of the range last run, and the deploy being compared
  const [markerKey, setMarkerKey] = createSignal<{ query: string; from: number; to: number } | null>(null);
  const [markers, setMarkers] = createSignal<Marker[]>([]);
  const [compare, setCompare] = createSignal<Marker | null>(null);
  createEffect(() => {
    const k = markerKey();
    if (!k || !markersOn()) return setMarkers([]);
    const app = appOfQuery(k.query);
    loadMarkers(app === null ? null : [app], k.from, k.to)
      .then((m) => markerKey() === k && setMarkers(m))
      .catch(() => markerKey() === k && setMarkers([]));
  });
  let editor: QueryEditor | undefined;
  let editorEl!: HTMLDivElement;
  let abort: AbortController | undefined;

  const patterns = createMemo(() => matchPatterns(st().query));
  const currentRange = () => {
    const r = resolveRange(st().from, st().to);
    return typeof r === 'string' ? ranRange() : r;
  };
  const apiRange = () => {
    const r = currentRange();
    return { start: `${r.from}000000`, end: `${r.to}000000` };
  };

  const update = (patch: Partial<ExploreState>, opts: { push?: boolean; run?: boolean } = {}) => {
    const next = { ...st(), ...patch };
    setSt(next);
    writeUrl(next, opts.push ?? true);
    if (opts.run !== false) execute();
  };

  const run = () => {
    const q = editor?.get() ?? draft();
    if (q.trim()) saveHistory(q.trim());
    update({ query: q });
  };

  // ---- query execution ----
  async function execute() {
    abort?.abort();
    stopTail();
    const s = st();
    editor?.markError();
    setError(null);
    setRenderMs(null);
    if (!s.query.trim()) {
      setMode('none');
      return;
    }
    const r = resolveRange(s.from, s.to);
    if (typeof r === 'string') return setError(r);
    setRanRange(r);
    const metric = isMetric(s.query);
    setMarkerKey(s.live ? null : { query: s.query, from: r.from, to: r.to });
    if (s.live) {
      if (metric) {
        setError('Live tail works with log queries only (a selector and a pipeline), not with metric queries.');
        return;
      }
      setMode('logs');
      startTail(s.query);
      return;
    }
    const ac = (abort = new AbortController());
    setLoading(true);
    const t0 = performance.now();
    const start = `${r.from}000000`, end = `${r.to}000000`;
    try {
      if (metric) {
        setMode('metric');
        const step = niceStep(r.to - r.from, 250);
        const res = await apiGet('/loki/api/v1/query_range', { query: withBuiltins(s.query, r, step), start, end, step: `${step}s` }, { signal: ac.signal });
        if (ac.signal.aborted) return;
        setTook(performance.now() - t0);
        setMatrix(toMatrix(res.data, r, step));
      } else {
        setMode('logs');
        const histP = loadVolume(s.query, r.from, r.to, ac.signal)
          .then((h) => {
            if (ac.signal.aborted) return;
            setHistError(null);
            setHist(h);
          })
          .catch((e) => {
            if (e?.name === 'AbortError') return;
            setHist(null);
            setHistError(`Log volume unavailable: ${e.message}`);
          });
        const res = await queryRange(withBuiltins(s.query, r, niceStep(r.to - r.from, 250)), { start, end, limit: s.limit, direction: s.order === 'newest' ? 'backward' : 'forward' }, ac.signal);
        if (ac.signal.aborted) return;
        const arrived: number = res.__arrived ?? performance.now();
        setTook(performance.now() - t0);
        setProcessed(res.data?.stats?.summary?.totalLinesProcessed ?? null);
        const list = flattenStreams(res.data?.result ?? []);
        list.sort(cmpTs);
        if (s.order === 'newest') list.reverse();
        setRows(list);
        setMore(list.length >= s.limit);
        requestAnimationFrame(() =>
          requestAnimationFrame(() => {
            const ms = performance.now() - arrived;
            setRenderMs(ms);
            (window as any).__bitacoraRender = { rows: list.length, ms };
          }),
        );
        await histP;
      }
    } catch (e: any) {
      if (e?.name === 'AbortError') return;
      const err = e as ApiError;
      setError(err.message ?? String(e));
      if (err.line && err.col) editor?.markError(err.line, err.col);
      ac.abort();
      setMode('none');
      setRows([]);
      setMatrix(null);
      setHist(null);
    } finally {
      if (abort === ac) setLoading(false);
    }
  }

  /** The next page: lines older (newest first) or newer (oldest first) than those shown. */
  async function loadMore() {
    const s = st();
    const cur = rows();
    if (!cur.length) return;
    const r = resolveRange(s.from, s.to);
    if (typeof r === 'string') return setError(r);
    const edge = BigInt(cur[cur.length - 1].ts);
    const newest = s.order === 'newest';
    // The edge timestamp is included again so lines sharing it are not lost; duplicates are dropped.
    const p = newest ? { start: `${r.from}000000`, end: String(edge + 1n), direction: 'backward' } : { start: String(edge), end: `${r.to}000000`, direction: 'forward' };
    setLoadingMore(true);
    try {
      const atEdge = cur.filter((x) => x.ts === cur[cur.length - 1].ts).length;
      const res = await queryRange(s.query, { ...p, limit: s.limit + atEdge });
      const seen = new Set(cur.map((x) => `${x.ts}\u0000${x.line}\u0000${JSON.stringify(x.labels)}`));
      const page = flattenStreams(res.data?.result ?? []).sort(cmpTs);
      if (newest) page.reverse();
      const fresh = page.filter((x) => !seen.has(`${x.ts}\u0000${x.line}\u0000${JSON.stringify(x.labels)}`));
      setRows([...cur, ...fresh]);
      setMore(page.length >= s.limit + atEdge && fresh.length > 0);
    } catch (e: any) {
      setError(e.message ?? String(e));
    } finally {
      setLoadingMore(false);
    }
  }

  // ---- live tail ----
  let ws: WebSocket | undefined;
  let pendingRows: LogRow[] = [];
  let heldRows: LogRow[] = [];
  let arrivals: [number, number][] = [];
  let flushFrame = 0;
  let retry: number | undefined;
  const rateTimer = setInterval(() => {
    const now = performance.now();
    arrivals = arrivals.filter((a) => now - a[0] < 5000);
    setRate(arrivals.reduce((n, a) => n + a[1], 0) / 5);
  }, 1000);
  onCleanup(() => clearInterval(rateTimer));

  function flushLive() {
    flushFrame = 0;
    if (!pendingRows.length) return;
    const fresh = pendingRows.sort(cmpTs);
    pendingRows = [];
    const newestFirst = st().order === 'newest';
    let next = newestFirst ? [...fresh.reverse(), ...liveRows()] : [...liveRows(), ...fresh];
    if (next.length > LIVE_MAX) next = newestFirst ? next.slice(0, LIVE_MAX) : next.slice(next.length - LIVE_MAX);
    setLiveRows(next);
  }

  function startTail(query: string, attempt = 0) {
    // The history the tail sends first (the newest lines before the connection) is no arrival
    // rate: the first message counts only when it came late or holds lines newer than the connection.
    let openedAt = 0;
    let first = true;
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const p = new URLSearchParams({ query, limit: '100', start: `${Date.now() - 3600e3}000000` });
    if (attempt === 0) {
      setLiveRows([]);
      heldRows = [];
      setPendingCount(0);
      setPaused(false);
    }
    setLiveStatus('Connecting…');
    const sock = (ws = new WebSocket(`${proto}://${location.host}/loki/api/v1/tail?${p}`));
    sock.onopen = () => {
      openedAt = Date.now();
      setLiveStatus('Live');
      attempt = 0;
    };
    sock.onmessage = (ev) => {
      let msg: any;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      // A browser WebSocket cannot ask for categorized labels, so the server merges structured
      // metadata into the stream labels; detected_level (always metadata here) is moved back.
      const streams = (msg.streams ?? []).map((st: any) => {
        const { detected_level, ...labels } = st.stream ?? {};
        return detected_level === undefined ? st : { stream: labels, values: (st.values ?? []).map((v: any) => [v[0], v[1], { structuredMetadata: { detected_level } }]) };
      });
      const fresh = flattenStreams(streams);
      const backfill = first && Date.now() - openedAt < 1000 && fresh.every((r) => r.ms <= openedAt);
      first = false;
      if (!backfill) arrivals.push([performance.now(), fresh.length]);
      if (msg.dropped_entries?.length) setLiveStatus(`Live · the server dropped ${msg.dropped_entries.length} lines (too slow)`);
      if (paused()) {
        heldRows.push(...fresh);
        if (heldRows.length > LIVE_MAX) heldRows = heldRows.slice(heldRows.length - LIVE_MAX);
        setPendingCount(heldRows.length);
        return;
      }
      pendingRows.push(...fresh);
      if (!flushFrame) flushFrame = requestAnimationFrame(flushLive);
    };
    sock.onclose = (ev) => {
      if (ws !== sock) return;
      const why = ev.reason || (ev.code === 1006 ? 'connection lost' : `code ${ev.code}`);
      if (attempt < 30) {
        setLiveStatus(`Disconnected (${why}); reconnecting in 5 s…`);
        retry = window.setTimeout(() => startTail(query, attempt + 1), 5000);
      } else setLiveStatus(`Disconnected (${why}).`);
    };
  }
  function stopTail() {
    if (retry) clearTimeout(retry);
    const s = ws;
    ws = undefined;
    s?.close();
    setLiveStatus('');
  }
  onCleanup(stopTail);
  const togglePause = () => {
    if (paused()) {
      pendingRows.push(...heldRows);
      heldRows = [];
      setPendingCount(0);
      setPaused(false);
      flushLive();
    } else setPaused(true);
  };

  // ---- auto refresh ----
  createEffect(
    on(
      () => [st().refresh, st().live] as const,
      ([refresh, live]) => {
        const ms = parseDuration(refresh);
        if (!ms || live) return;
        const t = setInterval(() => {
          if (!document.hidden && !loading()) execute();
        }, Math.max(ms, 1000));
        onCleanup(() => clearInterval(t));
      },
    ),
  );

  // ---- filters ----
  const applyFilter = (f: FilterAction) => {
    const q = st().query;
    const next = f.kind === 'stream' ? withStreamMatcher(q, f.name, f.op, f.value) : withLabelFilter(q, f.name, f.op, f.value, f.parser);
    editor?.set(next);
    update({ query: next });
  };

  const zoom = (from: number, to: number) => update({ from: String(from), to: String(to), live: false });
  const zoomOut = () => {
    const r = currentRange();
    const span = r.to - r.from;
    const to = Math.min(Date.now(), r.to + span / 2);
    update({ from: String(Math.round(to - span * 2)), to: isRelative(st().to) && to >= Date.now() ? 'now' : String(Math.round(to)) });
  };

  onMount(() => {
    editor = createEditor(editorEl, init.query, { range: apiRange, onRun: run, onChange: setDraft, onHint: setHint });
    const onPop = () => {
      if (location.pathname !== '/explore') return;
      const s = readUrl();
      setSt(s);
      editor?.set(s.query);
      execute();
    };
    window.addEventListener('popstate', onPop);
    onCleanup(() => window.removeEventListener('popstate', onPop));
    // "/" focuses the query editor from anywhere on the page but a text field.
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.key === '/' && !e.ctrlKey && !e.metaKey && !t.closest('input, textarea, select, [contenteditable=true]')) {
        e.preventDefault();
        editor?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    onCleanup(() => document.removeEventListener('keydown', onKey));
    if (init.query.trim()) execute();
    else editor.focus();
  });
  onCleanup(() => abort?.abort());

  const shownRows = () => (st().live ? liveRows() : rows());

  return (
    <div class="explore">
      <div class="query-bar">
        <div class="editor" ref={editorEl} />
        <div class="query-actions">
          <button class="primary" onClick={run} data-testid="run" title="Run query (Ctrl+Enter)">
            {loading() ? 'Running…' : 'Run'}
          </button>
          <HistoryMenu onPick={(q) => { editor?.set(q); setDraft(q); }} />
          <button onClick={() => setShowBrowser(!showBrowser())} aria-expanded={showBrowser()} data-testid="open-label-browser">
            Labels
          </button>
          <button onClick={() => alertOn(editor?.get() ?? draft())} disabled={!draft().trim()} data-testid="alert-on-query" title="Create an alert rule from this query">
            Alert on this query
          </button>
          <button onClick={() => setAdding(true)} disabled={!draft().trim()} data-testid="add-to-dashboard-open" title="Add this query to a dashboard as a panel">
            Add to dashboard
          </button>
          <Show when={adding()}>
            <AddToDashboard query={(editor?.get() ?? draft()).trim()} metric={isMetric((editor?.get() ?? draft()).trim())} onClose={() => setAdding(false)} />
          </Show>
        </div>
      </div>
      <Show when={hint()}>
        {(h) => (
          <div class="muted small syntax-hint" data-testid="syntax-hint">
            Syntax error near line {h().line}, column {h().col} (underlined); Ctrl+Enter asks the server anyway.
          </div>
        )}
      </Show>
      <div class="toolbar">
        <TimePicker from={st().from} to={st().to} onApply={(from, to) => update({ from, to })} />
        <button onClick={zoomOut} title="Zoom out (double the range)" aria-label="Zoom out">
          ⤢
        </button>
        <label class="inline">
          <span class="sr">Auto-refresh</span>
          <select value={st().refresh} onChange={(e) => update({ refresh: e.currentTarget.value }, { push: false, run: false })} aria-label="Auto-refresh" disabled={st().live}>
            <option value="">Refresh: off</option>
            <For each={['5s', '10s', '30s', '1m', '5m']}>{(r) => <option value={r}>Every {r}</option>}</For>
          </select>
        </label>
        <button classList={{ live: st().live }} aria-pressed={st().live} onClick={() => update({ live: !st().live })} data-testid="live-toggle" title="Live tail over a WebSocket">
          {st().live ? '■ Stop live' : '▶ Live'}
        </button>
        <Show when={st().live}>
          <button onClick={togglePause} data-testid="live-pause" aria-pressed={paused()}>
            {paused() ? `Resume${pendingCount() ? ` (${pendingCount()} new)` : ''}` : 'Pause'}
          </button>
          <span class="muted" data-testid="live-status">
            {liveStatus()} · <span data-testid="live-rate">{rate().toFixed(1)}</span> lines/s · buffer {liveRows().length}/{LIVE_MAX}
          </span>
        </Show>
      </div>
      <Show when={showBrowser()}>
        <LabelBrowser
          range={apiRange}
          onClose={() => setShowBrowser(false)}
          onUse={(sel, go) => {
            editor?.set(sel);
            setDraft(sel);
            setShowBrowser(false);
            if (go) run();
          }}
        />
      </Show>
      <Show when={error()}>
        <div class="error" role="alert" data-testid="error">
          {error()}
        </div>
      </Show>
      <Show when={mode() === 'none' && !error() && !st().query.trim()}>
        <div class="hint">
          <p>
            Type a LogQL query, for example <code>{'{app="my-app"} |= "error"'}</code> or <code>{'sum by (app) (rate({app=~".+"}[5m]))'}</code>, and press <kbd>Ctrl</kbd>+<kbd>Enter</kbd>. Use <b>Labels</b> to build a selector.
          </p>
        </div>
      </Show>
      <Show when={mode() === 'logs'}>
        <Show when={!st().live}>
          <section class="panel" aria-label="Log volume">
            <div class="panel-head">
              <strong>Log volume</strong>
              <Show when={hist()}>
                {(h) => (
                  <>
                    <span class="muted small" data-testid="histogram-total">
                      {h().total.toLocaleString('en')} lines in the range
                    </span>
                    <Legend levels={h().levels.map((l) => l.level)} />
                  </>
                )}
              </Show>
              <span class="grow" />
              <MarkersToggle markers={markers()} />
              <span class="muted small">drag to zoom</span>
            </div>
            <Show when={histError()}>
              <div class="warn">{histError()}</div>
            </Show>
            <Show when={hist()}>{(h) => <HistogramChart h={h()} range={ranRange()} onZoom={zoom} markers={markers()} onDeploy={setCompare} />}</Show>
          </section>
        </Show>
        <section class="panel logs-panel" aria-label="Log lines">
          <div class="panel-head wrapline">
            <strong data-testid="row-count">{shownRows().length} lines</strong>
            <Show when={!st().live && more()}>
              <span class="warn small">more lines in the range</span>
            </Show>
            <Show when={!st().live && took() !== null}>
              <span class="muted small">
                query {Math.round(took()!)} ms<Show when={processed() !== null}>, {processed()!.toLocaleString('en')} lines scanned</Show><Show when={renderMs() !== null}> · render {Math.round(renderMs()!)} ms</Show>
              </span>
            </Show>
            <span class="grow" />
            <select value={st().order} onChange={(e) => update({ order: e.currentTarget.value as any })} aria-label="Order">
              <option value="newest">Newest first</option>
              <option value="oldest">Oldest first</option>
            </select>
            <select value={String(st().limit)} onChange={(e) => update({ limit: Number(e.currentTarget.value) })} aria-label="Line limit" disabled={st().live}>
              <For each={[100, 500, 1000, 5000]}>{(n) => <option value={String(n)}>{n} lines</option>}</For>
            </select>
            <LabelTagsPicker rows={shownRows()} chosen={tags()} onChange={(t) => (setTags(t), saveTags(t))} />
            <label class="inline">
              <input type="checkbox" checked={wrap()} onChange={(e) => (setWrap(e.currentTarget.checked), localStorage.setItem('bitacora.wrap', e.currentTarget.checked ? '1' : '0'))} /> Wrap
            </label>
            <label class="inline">
              <input type="checkbox" checked={showTime()} onChange={(e) => (setShowTime(e.currentTarget.checked), localStorage.setItem('bitacora.time', e.currentTarget.checked ? '1' : '0'))} /> Time
            </label>
            <button onClick={() => download(shownRows(), 'ndjson')} data-testid="download-ndjson">
              NDJSON
            </button>
            <button onClick={() => download(shownRows(), 'csv')} data-testid="download-csv">
              CSV
            </button>
          </div>
          <LogList rows={shownRows()} patterns={patterns()} wrap={wrap()} showTime={showTime()} tags={tags()} onFilter={applyFilter} onContext={setCtxRow} height="max(360px, calc(100vh - 150px))" stickToBottom={st().live && st().order === 'oldest'} />
          <Show when={!st().live && more()}>
            <div class="more">
              <button onClick={loadMore} disabled={loadingMore()} data-testid="load-more">
                {loadingMore() ? 'Loading…' : `Load ${st().limit} ${st().order === 'newest' ? 'older' : 'newer'} lines`}
              </button>
            </div>
          </Show>
        </section>
      </Show>
      <Show when={mode() === 'metric' && matrix()}>{(m) => <MetricView m={m()} range={ranRange()} onZoom={zoom} markers={markers()} onDeploy={setCompare} />}</Show>
      <Show when={ctxRow()}>{(r) => <ContextView row={r()} patterns={patterns()} tags={tags()} onClose={() => setCtxRow(null)} />}</Show>
      <Show when={compare()} keyed>
        {(m) => <DeployCompare marker={m} onClose={() => setCompare(null)} />}
      </Show>
    </div>
  );
}

/** Grafana's built-in variables in an Explore query: `$__auto` and `$__interval` are the step. */
function withBuiltins(q: string, r: Range, stepS: number) {
  const step = { value: [fmtDuration(stepS)] };
  return interpolate(q, { ...builtinVars({ from: r.from, to: r.to, maxDataPoints: 250 }), __interval: step, __auto: step, __interval_ms: { value: [String(stepS * 1000)] } });
}

function toMatrix(data: any, r: Range, step: number) {
  let result: MatrixSeries[] = [];
  if (data?.resultType === 'matrix') result = data.result;
  else if (data?.resultType === 'vector') result = data.result.map((x: any) => ({ metric: x.metric, values: [x.value] }));
  else if (data?.resultType === 'scalar') result = [{ metric: {}, values: [data.result] }];
  else if (data?.resultType === 'streams') throw new ApiError('This query returned log lines, not a metric.');
  const times = new Set<number>();
  for (const s of result) for (const [t] of s.values) times.add(t);
  return { times: [...times].sort((a, b) => a - b), series: result, step, range: r };
}

interface ChartMarkers {
  markers: Marker[];
  onDeploy: (m: Marker) => void;
}

function HistogramChart(props: { h: Histogram & { total: number }; range: Range; onZoom: (f: number, t: number) => void } & ChartMarkers) {
  let el!: HTMLDivElement;
  const bars = () => props.h.levels.reduce((n, l) => n + l.values.reduce<number>((a, v) => a + (v ?? 0), 0), 0);
  onMount(() => {
    createEffect(() => {
      theme();
      const c = drawHistogram(el, props.h, props.range, props.onZoom, [markersPlugin(props.markers, props.onDeploy)]);
      onCleanup(c.destroy);
    });
  });
  return <div class="chart" ref={el} data-testid="histogram" data-total={props.h.total} data-bars={bars()} data-times={props.h.times.join(',')} data-values={props.h.times.map((_, i) => props.h.levels.reduce((n, l) => n + (l.values[i] ?? 0), 0)).join(',')} data-levels={props.h.levels.map((l) => l.level).join(',')} />;
}

function Legend(props: { levels: string[] }) {
  const sorted = () => [...props.levels].sort((a, b) => LEVEL_ORDER.indexOf(a) - LEVEL_ORDER.indexOf(b));
  return (
    <span class="legend">
      <For each={sorted()}>
        {(l) => (
          <span>
            <i style={{ background: levelColour(l) }} />
            {l}
          </span>
        )}
      </For>
    </span>
  );
}

function MetricView(props: { m: { times: number[]; series: MatrixSeries[]; step: number }; range: Range; onZoom: (f: number, t: number) => void } & ChartMarkers) {
  let el!: HTMLDivElement;
  const aligned = createMemo(() => {
    const at = new Map(props.m.times.map((t, i) => [t, i]));
    return props.m.series.map((s) => {
      const vals: (number | null)[] = props.m.times.map(() => null);
      for (const [t, v] of s.values) vals[at.get(t)!] = Number(v);
      const nums = s.values.map((x) => Number(x[1])).filter((x) => Number.isFinite(x));
      return {
        name: seriesName(s.metric),
        values: vals,
        last: nums.at(-1),
        min: nums.length ? Math.min(...nums) : undefined,
        max: nums.length ? Math.max(...nums) : undefined,
        avg: nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : undefined,
      };
    });
  });
  onMount(() => {
    createEffect(() => {
      theme();
      const c = drawTimeseries(el, props.m.times, aligned(), props.range, props.onZoom, { plugins: [markersPlugin(props.markers, props.onDeploy)] });
      onCleanup(c.destroy);
    });
  });
  const fmt = (v: number | undefined) => (v === undefined ? '' : shortNum(v));
  return (
    <>
      <section class="panel" aria-label="Metric chart">
        <div class="panel-head">
          <strong>{props.m.series.length} series</strong>
          <span class="grow" />
          <MarkersToggle markers={props.markers} />
          <span class="muted small">step {fmtDuration(props.m.step)} · drag to zoom</span>
        </div>
        <Show when={props.m.series.length === 0}>
          <div class="empty">The query returned no series in this range.</div>
        </Show>
        <div class="chart" ref={el} data-testid="metric-chart" data-series={props.m.series.length} />
      </section>
      <section class="panel" aria-label="Metric table">
        <div class="table-wrap">
          <table class="metric-table" data-testid="metric-table">
            <thead>
              <tr>
                <th>Series</th>
                <th>Last</th>
                <th>Min</th>
                <th>Max</th>
                <th>Avg</th>
              </tr>
            </thead>
            <tbody>
              <For each={aligned()}>
                {(s, i) => (
                  <tr>
                    <td>
                      <i class="swatch" style={{ background: seriesColour(i()) }} />
                      {s.name}
                    </td>
                    <td>{fmt(s.last)}</td>
                    <td>{fmt(s.min)}</td>
                    <td>{fmt(s.max)}</td>
                    <td>{fmt(s.avg)}</td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}

function HistoryMenu(props: { onPick: (q: string) => void }) {
  const [open, setOpen] = createSignal(false);
  const [items, setItems] = createSignal<string[]>([]);
  let wrap: HTMLDivElement | undefined;
  closeOnOutside(() => wrap, open, () => setOpen(false));
  return (
    <div class="popover-wrap" ref={wrap} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
      <button onClick={() => (setItems(loadHistory()), setOpen(!open()))} aria-expanded={open()} data-testid="history">
        History
      </button>
      <Show when={open()}>
        <div class="popover history-pop" role="menu">
          <Show when={items().length} fallback={<div class="muted">No queries run yet.</div>}>
            <For each={items()}>
              {(q) => (
                <button role="menuitem" class="history-item" onClick={() => (setOpen(false), props.onPick(q))}>
                  {q}
                </button>
              )}
            </For>
          </Show>
        </div>
      </Show>
    </div>
  );
}

function download(rows: LogRow[], fmt: 'ndjson' | 'csv') {
  let body: string;
  if (fmt === 'ndjson') {
    body = rows.map((r) => JSON.stringify({ timestamp: new Date(r.ms).toISOString(), ts: r.ts, labels: r.labels, structuredMetadata: r.meta, parsed: r.parsed, line: r.line })).join('\n') + '\n';
  } else {
    const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
    body = 'timestamp,ts_ns,level,labels,line\n' + rows.map((r) => [new Date(r.ms).toISOString(), r.ts, r.level, q(labelSelector(r.labels)), q(stripAnsi(r.line))].join(',')).join('\n') + '\n';
  }
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([body], { type: fmt === 'csv' ? 'text/csv' : 'application/x-ndjson' }));
  a.download = `bitacora-${new Date().toISOString().replace(/[:.]/g, '-')}.${fmt}`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export { navigate };
