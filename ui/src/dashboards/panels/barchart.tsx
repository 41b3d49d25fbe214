// The bar chart panel. Over time (range queries) it is the time series chart drawn as bars; for
// instant queries each series is one bar, labelled by its legend, sized by its value.
import { For, onMount, Show } from 'solid-js';
import { reduce } from '../query';
import { formatValue } from '../units';
import { seriesColours } from '../chart';
import TimeseriesPanel from './timeseries';
import { defaultsOf, type PanelProps } from './types';

export default function BarchartPanel(props: PanelProps) {
  const categorical = () => props.data.instant || props.data.series.every((s) => s.times.length <= 1);
  return (
    <Show when={categorical()} fallback={<TimeseriesPanel {...props} drawStyle="bars" />}>
      <Bars {...props} />
    </Show>
  );
}

function Bars(props: PanelProps) {
  const d = () => defaultsOf(props.panel);
  const calc = () => props.panel.options?.reduceOptions?.calcs?.[0] ?? 'lastNotNull';
  const rows = () => props.data.series.map((s) => ({ name: s.name, value: reduce(s.values, calc()) ?? 0 }));
  const max = () => d().max ?? Math.max(1e-9, ...rows().map((r) => r.value));
  const colours = () => seriesColours(d(), rows().length);
  onMount(() => requestAnimationFrame(props.onDrawn));
  return (
    <div class="bars" role="list">
      <Show when={!rows().length}>
        <div class="no-data">No data</div>
      </Show>
      <For each={rows()}>
        {(r, i) => (
          <div class="bar" role="listitem">
            <div class="bar-fill" style={{ height: `${Math.max(0, (r.value / max()) * 100)}%`, background: colours()[i()] }} />
            <div class="bar-value" data-testid="bar-value">{formatValue(r.value, d().unit, d().decimals)}</div>
            <div class="bar-name" title={r.name}>{r.name}</div>
          </div>
        )}
      </For>
    </div>
  );
}
