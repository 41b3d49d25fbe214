// The time series panel: lines, bars or points over time (uPlot), stacking and fill from
// `fieldConfig.defaults.custom`, a legend, zoom by dragging, the shared crosshair.
import { createEffect, createMemo, onCleanup, onMount, Show, useContext } from 'solid-js';
import { MarkersContext } from '../../markers/context';
import { markersPlugin } from '../../markers/draw';
import { theme } from '../../theme';
import { drawChart, seriesColours } from '../chart';
import { alignSeries } from '../query';
import { Legend } from './legend';
import { defaultsOf, type PanelProps } from './types';

export default function TimeseriesPanel(props: PanelProps & { drawStyle?: 'bars' }) {
  let el!: HTMLDivElement;
  const aligned = createMemo(() => alignSeries(props.data.series));
  const defaults = () => {
    const d = defaultsOf(props.panel);
    return props.drawStyle ? { ...d, custom: { ...d.custom, drawStyle: props.drawStyle } } : d;
  };
  const series = () => props.data.series.map((s, i) => ({ name: s.name, values: aligned().values[i] }));
  const colours = () => seriesColours(defaults(), series().length);
  // The dashboard's deploy and crash markers (none outside a dashboard view, e.g. a preview).
  const shared = useContext(MarkersContext);
  onMount(() => {
    createEffect(() => {
      theme();
      const a = aligned();
      if (!a.times.length) return props.onDrawn();
      let drawn = false;
      const destroy = drawChart(el, {
        times: a.times,
        series: series(),
        range: props.range,
        defaults: defaults(),
        syncKey: props.syncKey,
        onZoom: props.onZoom,
        tooltip: props.panel.options?.tooltip?.mode,
        plugins: shared ? [markersPlugin(shared.markers(), shared.onDeploy)] : [],
        onDraw: () => {
          if (!drawn) (drawn = true), props.onDrawn();
        },
      });
      onCleanup(destroy);
    });
  });
  const right = () => props.panel.options?.legend?.placement === 'right';
  return (
    <div class="dts" classList={{ 'legend-right': right() }}>
      <Show when={!aligned().times.length}>
        <div class="no-data">No data</div>
      </Show>
      <div class="ts-chart" ref={el} data-testid="chart" data-series={series().length} data-points={aligned().times.length} />
      <Legend series={series()} colours={colours()} options={props.panel.options?.legend} defaults={defaults()} />
    </div>
  );
}
