// uPlot for dashboard panels: lines, bars or points per series, stacking, fill, the panel's unit on
// the axis and in the tooltip, zoom by dragging, and a crosshair shared by every chart of a
// dashboard (uPlot's cursor sync by key). Sized to its box, width and height.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { seriesColour } from '../charts';
import { axisTimeLabels, fmtTime } from '../time';
import { formatValue } from './units';
import { resolveColor } from './thresholds';
import type { FieldDefaults } from './model';

export interface ChartSeries {
  name: string;
  values: (number | null)[];
  color?: string;
}

export interface ChartOptions {
  times: number[]; // seconds
  series: ChartSeries[];
  range: { from: number; to: number };
  defaults: FieldDefaults;
  syncKey: string;
  onZoom: (fromMs: number, toMs: number) => void;
  onDraw?: () => void;
  tooltip?: 'single' | 'multi' | 'none';
  /** More uPlot plugins (deploy and crash markers). */
  plugins?: uPlot.Plugin[];
}

function cssVar(name: string) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function tooltip(o: ChartOptions, colours: string[]): uPlot.Plugin {
  let tip: HTMLDivElement;
  const fmt = (v: number) => formatValue(v, o.defaults.unit, o.defaults.decimals);
  return {
    hooks: {
      init: (u) => {
        tip = document.createElement('div');
        tip.className = 'chart-tip';
        tip.style.display = 'none';
        u.over.appendChild(tip);
        u.over.addEventListener('mouseleave', () => (tip.style.display = 'none'));
      },
      setCursor: (u) => {
        const i = u.cursor.idx;
        // Only the chart under the pointer shows a tooltip; the others show the shared crosshair.
        if (o.tooltip === 'none' || i == null || u.cursor.left == null || u.cursor.left < 0 || !u.over.matches(':hover')) return void (tip.style.display = 'none');
        let rows = o.series.map((s, k) => [s.name, s.values[i], colours[k]] as const).filter((x) => x[1] != null);
        rows = [...rows].sort((a, b) => (b[1] as number) - (a[1] as number)).slice(0, o.tooltip === 'single' ? 1 : 12);
        if (!rows.length) return void (tip.style.display = 'none');
        tip.innerHTML = `<div class="tip-time">${fmtTime((u.data[0][i] as number) * 1000, false)}</div>` + rows.map(([n, v, c]) => `<div><i style="background:${c}"></i>${esc(n)} <b>${esc(fmt(v as number))}</b></div>`).join('');
        tip.style.display = 'block';
        const left = u.cursor.left!;
        tip.style.left = left > u.over.clientWidth / 2 ? `${left - tip.offsetWidth - 12}px` : `${left + 12}px`;
        tip.style.top = `${Math.max(0, (u.cursor.top ?? 0) - 20)}px`;
      },
    },
  };
}

function hexAlpha(colour: string, opacity: number) {
  const c = colour.startsWith('#') && colour.length === 7 ? colour : null;
  if (!c) return colour;
  return c + Math.round(Math.max(0, Math.min(1, opacity)) * 255).toString(16).padStart(2, '0');
}

/** The series' colours: fixed, else Grafana's classic palette. */
export function seriesColours(defaults: FieldDefaults, n: number, own: (string | undefined)[] = []) {
  const fixed = defaults.color?.mode === 'fixed' || defaults.color?.mode === 'shades' ? resolveColor(defaults.color.fixedColor) : null;
  return Array.from({ length: n }, (_, i) => own[i] ?? fixed ?? seriesColour(i));
}

/** Draws a chart in `el`, following its size; returns the destroyer. */
export function drawChart(el: HTMLElement, o: ChartOptions): () => void {
  const c = o.defaults.custom ?? {};
  const style = c.drawStyle ?? 'line';
  const stack = c.stacking?.mode && c.stacking.mode !== 'none' ? c.stacking.mode : null;
  const fill = (c.fillOpacity ?? (style === 'bars' ? 80 : 0)) / 100;
  const colours = seriesColours(o.defaults, o.series.length, o.series.map((s) => s.color));
  // Stacked: each series drawn at the running total, filled down to the one below.
  let data = o.series.map((s) => s.values);
  if (stack) {
    const acc = o.times.map(() => 0);
    const totals = o.times.map((_, i) => o.series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
    data = o.series.map((s) =>
      s.values.map((v, i) => {
        acc[i] += v ?? 0;
        return stack === 'percent' ? (totals[i] ? (acc[i] / totals[i]) * 100 : 0) : acc[i];
      }),
    );
  }
  const step = o.times.length > 1 ? o.times[1] - o.times[0] : 60;
  const bars = style === 'bars' ? uPlot.paths.bars!({ size: [0.8, 60], align: 0 }) : undefined;
  const series: uPlot.Series[] = [
    {},
    ...o.series.map((s, i) => ({
      label: s.name,
      stroke: colours[i],
      width: style === 'bars' ? 0 : (c.lineWidth ?? 1.5),
      fill: fill > 0 || style === 'bars' ? hexAlpha(colours[i], fill || 0.8) : undefined,
      paths: style === 'points' ? () => null : bars,
      points: { show: style === 'points' || o.times.length < 40, size: style === 'points' ? 5 : 4, fill: colours[i] },
      spanGaps: false,
    })),
  ];
  const bands: uPlot.Band[] = stack ? o.series.slice(1).map((_, i) => ({ series: [i + 2, i + 1] as [number, number] })) : [];
  if (stack) series.forEach((s, i) => i > 0 && (s.fill = hexAlpha(colours[i - 1], fill || 0.5)));
  const stroke = cssVar('--muted');
  const grid = { stroke: cssVar('--grid'), width: 1 };
  const unit = stack === 'percent' ? 'percent' : o.defaults.unit;
  const yMin = o.defaults.min, yMax = o.defaults.max;
  const make = (width: number, height: number) =>
    new uPlot(
      {
        width,
        height,
        legend: { show: false },
        cursor: { drag: { x: true, y: false, setScale: false }, sync: { key: o.syncKey, setSeries: false }, points: { size: 6 } },
        select: { show: true, left: 0, top: 0, width: 0, height: 0 },
        scales: {
          x: { time: true, range: () => [o.range.from / 1000, o.range.to / 1000] },
          y: {
            range: (_u, min, max) => {
              const lo = yMin ?? (style === 'bars' || stack || (min ?? 0) >= 0 ? Math.min(0, min ?? 0) : min);
              const hi = yMax ?? max ?? 1;
              const r = uPlot.rangeNum(lo, hi === lo ? lo + 1 : hi, 0.1, true);
              return [yMin ?? r[0], yMax ?? r[1]];
            },
          },
        },
        bands,
        axes: [
          { stroke, grid, ticks: grid, font: '11px system-ui, sans-serif', values: (_u, splits, _i, _space, incr) => axisTimeLabels(splits, incr) },
          {
            stroke,
            grid,
            ticks: grid,
            font: '11px system-ui, sans-serif',
            // As wide as the longest label ("1.46 KiB", "300 req/s"), never cut off.
            size: (_u, values) => Math.max(40, 14 + 6.5 * Math.max(0, ...(values ?? []).map((v) => String(v).length))),
            values: (_u, vals) => vals.map((v) => (v == null ? '' : formatValue(v, unit, o.defaults.decimals))),
          },
        ],
        series,
        hooks: {
          setSelect: [
            (u) => {
              if (u.select.width <= 4) return;
              const a = u.posToVal(u.select.left, 'x');
              const b = u.posToVal(u.select.left + u.select.width, 'x');
              u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              o.onZoom(Math.floor(a * 1000), Math.ceil(b * 1000));
            },
          ],
          draw: [() => o.onDraw?.()],
        },
        plugins: [tooltip(o, colours), ...(o.plugins ?? [])],
      },
      [style === 'bars' ? o.times.map((t) => t - step * 0) : o.times, ...data] as uPlot.AlignedData,
      el,
    );
  const size = () => ({ w: Math.max(50, el.clientWidth), h: Math.max(40, el.clientHeight) });
  let { w, h } = size();
  const u = make(w, h);
  const ro = new ResizeObserver(() => {
    const s = size();
    if (s.w !== w || s.h !== h) {
      ({ w, h } = s);
      u.setSize({ width: w, height: h });
    }
  });
  ro.observe(el);
  return () => {
    ro.disconnect();
    u.destroy();
  };
}
