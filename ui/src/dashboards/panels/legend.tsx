// A chart's legend: a list or a table, at the bottom or the right, with the calcs the panel asks
// for (`options.legend.calcs`).
import { For, Show } from 'solid-js';
import { CALC_LABELS, reduce } from '../query';
import { formatValue } from '../units';
import type { FieldDefaults, PanelOptions } from '../model';

export function Legend(props: { series: { name: string; values: (number | null)[] }[]; colours: string[]; options: PanelOptions['legend']; defaults: FieldDefaults }) {
  const calcs = () => props.options?.calcs ?? [];
  const fmt = (v: number | null) => (v == null ? '' : formatValue(v, props.defaults.unit, props.defaults.decimals));
  return (
    <Show when={props.options?.showLegend !== false && props.options?.displayMode !== 'hidden' && props.series.length > 0}>
      <Show
        when={props.options?.displayMode === 'table'}
        fallback={
          <div class="dl-list" data-testid="legend">
            <For each={props.series}>
              {(s, i) => (
                <span class="dl-item" title={s.name}>
                  <i style={{ background: props.colours[i()] }} />
                  {s.name}
                  <For each={calcs()}>{(c) => <span class="muted"> {CALC_LABELS[c] ?? c}: {fmt(reduce(s.values, c))}</span>}</For>
                </span>
              )}
            </For>
          </div>
        }
      >
        <div class="dl-table-wrap">
          <table class="dl-table" data-testid="legend">
            <thead>
              <tr>
                <th>Name</th>
                <For each={calcs()}>{(c) => <th>{CALC_LABELS[c] ?? c}</th>}</For>
              </tr>
            </thead>
            <tbody>
              <For each={props.series}>
                {(s, i) => (
                  <tr>
                    <td>
                      <i class="swatch" style={{ background: props.colours[i()] }} />
                      {s.name}
                    </td>
                    <For each={calcs()}>{(c) => <td>{fmt(reduce(s.values, c))}</td>}</For>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </div>
      </Show>
    </Show>
  );
}
