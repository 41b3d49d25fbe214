// A dashboard (/d/<uid>/<slug>): title, variables, time range and refresh (all in the URL: from,
// to, refresh, var-x, viewPanel), the panels on the grid; dragging on a chart zooms the range.
import { createEffect, createMemo, createResource, createSignal, on, onCleanup, Show, type JSX } from 'solid-js';
import { navigate, path } from '../router';
import { TimePicker } from '../timepicker';
import { describeRange } from '../time';
import { loadDashboard } from './api';
import { listDataSources, type DataSource } from './datasources';
import { DashboardGrid } from './grid';
import { PanelFrame, type PanelMenuItem } from './panel';
import { VariablePickers } from './pickers';
import { readTime, refreshMs, resolve, REFRESH_INTERVALS, writeUrl, zoomOut, type TimeState } from './timerange';
import { createVariables, urlValues } from './variables';
import { flatten, type Dashboard, type DashboardMeta, type Panel } from './model';
import { loadMarkers, markersOn, type Marker } from '../markers/events';
import { MarkersContext } from '../markers/context';
import { MarkersToggle } from '../markers/toggle';
import { DeployCompare } from '../markers/compare';

/** The uid a dashboard path names: /d/<uid>/<slug>. */
export function uidFromPath(p: string) {
  const m = /^\/d\/([^/]+)/.exec(p);
  return m ? decodeURIComponent(m[1]) : null;
}

export default function DashboardPage() {
  const uid = () => uidFromPath(path());
  const [loaded] = createResource(uid, async (u) => {
    const [d, ds] = await Promise.all([loadDashboard(u), listDataSources()]);
    return { ...d, datasources: ds };
  });
  return (
    <div class="dash">
      <Show when={loaded.error}>
        <div class="error" role="alert" data-testid="dash-error">
          Cannot open dashboard “{uid()}”: {String(loaded.error?.message ?? loaded.error)}
        </div>
      </Show>
      <Show when={loaded.loading && !loaded()}>
        <div class="muted pad">Loading dashboard…</div>
      </Show>
      <Show when={!loaded.error && loaded()} keyed>
        {(l) => <DashboardView dashboard={l.dashboard} meta={l.meta} datasources={l.datasources} />}
      </Show>
    </div>
  );
}

export interface DashboardViewProps {
  dashboard: Dashboard;
  meta: DashboardMeta;
  datasources: DataSource[];
  /** More buttons for the toolbar (the editor adds Edit, Save, Export). */
  toolbarExtra?: JSX.Element;
  /** More panel menu items. */
  menuExtra?: (p: Panel) => PanelMenuItem[];
}

export function DashboardView(props: DashboardViewProps) {
  const d = props.dashboard;
  const [time, setTime] = createSignal<TimeState>(readTime(location.search, d.time ?? { from: 'now-6h', to: 'now' }, d.refresh));
  const [tick, setTick] = createSignal(0);
  const [viewPanel, setViewPanel] = createSignal<number | null>(Number(new URLSearchParams(location.search).get('viewPanel')) || null);
  // The range in milliseconds, resolved again on every refresh (relative ranges move with now).
  const range = createMemo(
    () => {
      tick();
      const r = resolve(time());
      return typeof r === 'string' ? { from: Date.now() - 6 * 3600e3, to: Date.now(), error: r } : { ...r, error: undefined };
    },
    undefined,
    { equals: (a, b) => a.from === b.from && a.to === b.to && a.error === b.error },
  );
  const vset = createVariables(d.templating?.list ?? [], { datasources: props.datasources, range, fromUrl: urlValues(location.search) });
  void vset.init();

  // Deploy and crash markers: one request per range (and `app` variable) for every chart.
  const markerApps = createMemo(
    () => {
      const v = vset.vars().app;
      if (!v || !v.value.length || v.value.includes('$__all')) return null;
      return [...v.value];
    },
    undefined,
    { equals: (a, b) => JSON.stringify(a) === JSON.stringify(b) },
  );
  const [markers, setMarkers] = createSignal<Marker[]>([]);
  const [compare, setCompare] = createSignal<Marker | null>(null);
  let markersAsked = 0;
  createEffect(() => {
    const r = range();
    const apps = markerApps();
    if (!vset.ready() || !markersOn()) return setMarkers([]);
    const n = ++markersAsked;
    loadMarkers(apps, r.from, r.to)
      .then((m) => n === markersAsked && setMarkers(m))
      .catch(() => n === markersAsked && setMarkers([]));
  });

  const syncUrl = (push: boolean) => {
    const vars = vset.states().filter((s) => s.def.type !== 'constant').map((s) => ({ name: s.def.name, values: s.current }));
    const url = writeUrl(time(), vars, { viewPanel: viewPanel() ? String(viewPanel()) : undefined });
    if (url === location.pathname + location.search) return;
    if (push) history.pushState(null, '', url);
    else history.replaceState(null, '', url);
  };
  createEffect(on(() => vset.vars(), () => vset.ready() && syncUrl(false), { defer: true }));
  createEffect(on(vset.ready, (r) => r && syncUrl(false)));

  const setRange = (from: string, to: string) => {
    setTime({ ...time(), from, to });
    syncUrl(true);
    vset.onRangeChange();
  };
  const zoom = (f: number, t: number) => setRange(String(f), String(t));
  const setRefresh = (refresh: string) => {
    setTime({ ...time(), refresh });
    syncUrl(false);
  };
  createEffect(() => {
    const ms = refreshMs(time());
    if (!ms) return;
    const t = setInterval(() => !document.hidden && setTick((n) => n + 1), ms);
    onCleanup(() => clearInterval(t));
  });
  // Back and forward within the dashboard: the URL's range, variables and viewed panel again.
  const onPop = () => {
    if (!location.pathname.startsWith(`/d/${encodeURIComponent(d.uid)}`) && uidFromPath(location.pathname) !== d.uid) return;
    setTime(readTime(location.search, d.time ?? { from: 'now-6h', to: 'now' }, d.refresh));
    setViewPanel(Number(new URLSearchParams(location.search).get('viewPanel')) || null);
    const u = urlValues(location.search);
    for (const [name, values] of u) void vset.select(name, values);
  };
  window.addEventListener('popstate', onPop);
  onCleanup(() => window.removeEventListener('popstate', onPop));

  const toggleView = (id: number) => {
    setViewPanel(viewPanel() === id ? null : id);
    syncUrl(true);
  };
  const syncKey = `dash-${d.uid}`;
  const viewed = () => flatten(d.panels).find((p) => p.id === viewPanel());
  const frame = (p: Panel, style: JSX.CSSProperties) => (
    <PanelFrame
      panel={p}
      style={style}
      vars={vset.vars()}
      range={range()}
      rangeText={time()}
      datasources={props.datasources}
      tick={tick()}
      syncKey={syncKey}
      onZoom={zoom}
      onView={() => toggleView(p.id)}
      viewing={viewPanel() === p.id}
      menuExtra={props.menuExtra}
    />
  );
  performance.mark('bitacora-dashboard-start');

  return (
    <div class="dview" data-testid="dashboard" data-uid={d.uid}>
      <div class="dtoolbar">
        <h1 class="dtitle">
          <a href="/dashboards" onClick={(e) => (e.preventDefault(), navigate('/dashboards'))} class="muted crumb">
            {props.meta.folderTitle || 'Dashboards'}
          </a>
          <span class="muted crumb-sep" aria-hidden="true">
            /
          </span>
          <span data-testid="dash-title">{d.title}</span>
        </h1>
        <Show when={props.meta.provisioned}>
          <span class="tag muted small" title="Provisioned from a file">
            provisioned
          </span>
        </Show>
        <span class="grow" />
        <MarkersToggle markers={markers()} />
        {props.toolbarExtra}
        <Show when={props.meta.canEdit}>
          <button
            onClick={() => {
              const u = new URLSearchParams(location.search);
              u.set('edit', '1');
              navigate(`${location.pathname}?${u}`);
            }}
            title="Edit this dashboard"
            data-testid="dash-edit"
          >
            Edit
          </button>
        </Show>
        <TimePicker from={time().from} to={time().to} onApply={setRange} />
        <button onClick={() => setRange(...(Object.values(zoomOut(range())) as [string, string]))} title="Zoom out (twice the range)" aria-label="Zoom out" data-testid="zoom-out">
          −
        </button>
        <button onClick={() => setTick((n) => n + 1)} title="Refresh now" aria-label="Refresh" data-testid="refresh">
          ↻
        </button>
        <select value={time().refresh} onChange={(e) => setRefresh(e.currentTarget.value)} aria-label="Auto refresh" data-testid="refresh-interval">
          <option value="">Off</option>
          {(d.timepicker?.refresh_intervals ?? REFRESH_INTERVALS).map((r) => (
            <option value={r}>{r}</option>
          ))}
        </select>
      </div>
      <Show when={range().error}>
        <div class="error" role="alert">
          {range().error} (showing {describeRange('now-6h', 'now')})
        </div>
      </Show>
      <Show when={vset.states().length}>
        <VariablePickers set={vset} />
      </Show>
      <Show when={vset.ready()} fallback={<div class="muted pad">Loading variables…</div>}>
        <MarkersContext.Provider value={{ markers, onDeploy: setCompare }}>
          <Show when={viewed()} fallback={<DashboardGrid panels={d.panels} vars={vset.vars()} renderPanel={frame} />}>
            {(p) => <div class="dviewpanel">{frame(p(), {})}</div>}
          </Show>
        </MarkersContext.Provider>
        <Show when={!d.panels.length}>
          <div class="empty pad">This dashboard has no panels.</div>
        </Show>
      </Show>
      <Show when={compare()} keyed>
        {(m) => <DeployCompare marker={m} onClose={() => setCompare(null)} />}
      </Show>
    </div>
  );
}
