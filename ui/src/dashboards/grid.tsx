// Grafana's 24-column grid: each panel at its gridPos (30 px cells, 8 px gaps), rows as
// full-width headers that fold the panels under them. Under 768 px every panel takes the full
// width, one under the other, in reading order.
import { createSignal, For, Show, type JSX } from 'solid-js';
import { sections, unitsToPx, type Panel } from './model';
import RowHeader from './panels/row';
import type { Vars } from './interpolate';

export function DashboardGrid(props: { panels: Panel[]; vars: Vars; renderPanel: (p: Panel, style: JSX.CSSProperties) => JSX.Element; onRowToggle?: (row: Panel, collapsed: boolean) => void }) {
  const [folded, setFolded] = createSignal(new Map<number, boolean>());
  const isCollapsed = (r: Panel) => folded().get(r.id) ?? !!r.collapsed;
  const toggle = (r: Panel) => {
    const next = !isCollapsed(r);
    setFolded((m) => new Map(m).set(r.id, next));
    props.onRowToggle?.(r, next);
  };
  // A row folded in the JSON keeps its panels inside it; one folded here hides the panels after it.
  const secs = () => sections(props.panels);
  return (
    <div class="dgrid" data-testid="grid">
      <For each={secs()}>
        {(sec) => {
          const body = () => (sec.row && isCollapsed(sec.row) ? [] : sec.row?.collapsed ? sec.row.panels ?? [] : sec.panels);
          const top = () => Math.min(...body().map((p) => p.gridPos.y));
          return (
            <>
              <Show when={sec.row}>{(r) => <RowHeader row={r()} collapsed={isCollapsed(r())} count={(r().collapsed ? r().panels ?? [] : sec.panels).length} vars={props.vars} onToggle={() => toggle(r())} />}</Show>
              <Show when={body().length}>
                <div class="dgrid-sec">
                  <For each={body()}>
                    {(p) =>
                      props.renderPanel(p, {
                        'grid-column': `${p.gridPos.x + 1} / span ${Math.min(p.gridPos.w, 24 - p.gridPos.x)}`,
                        'grid-row': `${p.gridPos.y - top() + 1} / span ${p.gridPos.h}`,
                        '--h': `${unitsToPx(p.gridPos.h)}px`,
                      } as JSX.CSSProperties)
                    }
                  </For>
                </div>
              </Show>
            </>
          );
        }}
      </For>
    </div>
  );
}
