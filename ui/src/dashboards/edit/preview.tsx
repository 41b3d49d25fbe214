// Panels drawn live while editing, with the viewer's panel components inside the viewer's panel
// body (so charts, legends and stats get the viewer's layout and styles): the panel's queries run
// over the dashboard's time range with the dashboard's variables at their current values (again
// only when its queries, data source, type or those values change, not when it moves or its
// options change), then the viewer's component draws them.
import { createEffect, createMemo, createSignal, on, onCleanup, type Accessor } from 'solid-js';
import { Dynamic } from 'solid-js/web';
import { listDataSources } from '../datasources';
import type { Vars } from '../interpolate';
import type { Panel as ViewPanel } from '../model';
import { NO_QUERY, panelComponent } from '../panels';
import { runPanel, type PanelData } from '../query';
import { resolveRange } from '../../time';
import type { RenderPanel } from './editor';
import type { Dashboard, Panel } from './shape';
import '../dashboards.css';

const EMPTY: PanelData = { series: [], logs: [], instant: false, sent: [], intervalMs: 0 };

/** The dashboard's time range in milliseconds (the last 6 hours when it cannot be read). */
export function dashRange(dash: Accessor<Dashboard>) {
  return createMemo(
    () => {
      const t = dash().time ?? { from: 'now-6h', to: 'now' };
      const r = resolveRange(t.from, t.to);
      return typeof r === 'string' ? { from: Date.now() - 6 * 3600e3, to: Date.now() } : r;
    },
    undefined,
    { equals: (a, b) => a.from === b.from && a.to === b.to },
  );
}

export function livePanels(dash: Accessor<Dashboard>, vars: Accessor<Vars> = () => ({})): RenderPanel {
  return (p: () => Panel, size) => {
    const range = dashRange(dash);
    const key = createMemo(() => JSON.stringify([p().type, p().datasource, p().targets, p().maxDataPoints, p().interval, dash().time, vars()]));
    // A signal, not a resource: a resource read here would suspend the whole page (the app's
    // <Suspense>) each time a panel's queries run.
    const [data, setData] = createSignal<PanelData>();
    const [loading, setLoading] = createSignal(true);
    let gen = 0;
    onCleanup(() => gen++);
    createEffect(
      on(key, async () => {
        const g = ++gen;
        const panel = p() as unknown as ViewPanel;
        setLoading(true);
        let d: PanelData = EMPTY;
        if (!NO_QUERY.has(panel.type)) {
          const r = range();
          try {
            d = await runPanel(panel, { vars: vars(), from: r.from, to: r.to, width: Math.max(100, Math.round(size().width)), datasources: await listDataSources() });
          } catch (e: any) {
            d = { ...EMPTY, error: e?.message ?? String(e) };
          }
        }
        if (g !== gen) return;
        setData(d);
        setLoading(false);
      }),
    );
    return (
      <div class="de-live" data-testid="live-panel" data-state={loading() ? 'loading' : data()?.error ? 'error' : 'done'} data-series={data()?.series.length ?? 0} data-logs={data()?.logs.length ?? 0}>
        {data()?.error ? (
          <div class="error small" role="alert" data-testid="panel-error">
            {data()!.error}
          </div>
        ) : null}
        <div class="dpanel-body">
          <Dynamic component={panelComponent(p().type)} panel={p() as unknown as ViewPanel} data={data() ?? EMPTY} range={range()} vars={vars()} syncKey="edit" onZoom={() => {}} onDrawn={() => {}} />
        </div>
      </div>
    );
  };
}
