// uPlot charts: the stacked log-volume histogram and metric time series, both zoomable by dragging.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { axisTimeLabels, fmtTime } from './time';

export const LEVEL_ORDER = ['fatal', 'critical', 'error', 'warn', 'info', 'debug', 'trace', 'unknown'];
const LEVEL_COLOURS: Record<string, string> = {
  fatal: '#b04be0', critical: '#d44cb8', error: '#e5484d', warn: '#f1a10d', info: '#30a46c', debug: '#3e8ef7', trace: '#6fc3df', unknown: '#8b8d98',
};
export const levelColour = (l: string) => LEVEL_COLOURS[l] ?? '#8b8d98';
const PALETTE = ['#3e8ef7', '#30a46c', '#f1a10d', '#e5484d', '#b04be0', '#12a594', '#d6409f', '#978365', '#6e56cf', '#ad7f58', '#0090ff', '#5bb98b'];
export const seriesColour = (i: number) => PALETTE[i % PALETTE.length];

function cssVar(name: string) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function axes(): uPlot.Axis[] {
  const stroke = cssVar('--muted');
  const grid = { stroke: cssVar('--grid'), width: 1 };
  return [
    { stroke, grid, ticks: grid, font: '11px system-ui, sans-serif', values: (_u, splits, _i, _space, incr) => axisTimeLabels(splits, incr) },
    { stroke, grid, ticks: grid, font: '11px system-ui, sans-serif', size: 48, values: (_u, vals) => vals.map(shortNum) },
  ];
}

export function shortNum(v: number) {
  if (v == null) return '';
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(2)}k`;
  return `${+v.toFixed(3)}`;
}

function tooltipPlugin(raw: () => (number | null)[][], names: () => string[], colours: () => string[]): uPlot.Plugin {
  let tip: HTMLDivElement;
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
        if (i == null || u.cursor.left == null || u.cursor.left < 0) return void (tip.style.display = 'none');
        const r = raw();
        const rows = names()
          .map((n, s) => [n, r[s]?.[i], colours()[s]] as const)
          .filter((x) => x[1] != null)
          .sort((a, b) => (b[1] as number) - (a[1] as number))
          .slice(0, 12);
        if (!rows.length) return void (tip.style.display = 'none');
        const esc = (s: string) => s.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
        tip.innerHTML = `<div class="tip-time">${fmtTime((u.data[0][i] as number) * 1000, false)}</div>` + rows.map(([n, v, c]) => `<div><i style="background:${c}"></i>${esc(n)} <b>${shortNum(v as number)}</b></div>`).join('');
        tip.style.display = 'block';
        const w = u.over.clientWidth;
        const left = u.cursor.left!;
        tip.style.left = left > w / 2 ? `${left - tip.offsetWidth - 12}px` : `${left + 12}px`;
        tip.style.top = `${Math.max(0, (u.cursor.top ?? 0) - 20)}px`;
      },
    },
  };
}

interface ChartHandle {
  destroy: () => void;
}

function mount(el: HTMLElement, make: (w: number) => uPlot): ChartHandle {
  let u = make(el.clientWidth || 600);
  let lastW = el.clientWidth;
  const ro = new ResizeObserver(() => {
    const w = el.clientWidth;
    if (w && w !== lastW) {
      lastW = w;
      u.setSize({ width: w, height: u.height });
    }
  });
  ro.observe(el);
  return {
    destroy: () => {
      ro.disconnect();
      u.destroy();
    },
  };
}

function zoomHook(onZoom: (fromMs: number, toMs: number) => void) {
  return (u: uPlot) => {
    if (u.select.width > 4) {
      const a = u.posToVal(u.select.left, 'x');
      const b = u.posToVal(u.select.left + u.select.width, 'x');
      u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
      onZoom(Math.floor(a * 1000), Math.ceil(b * 1000));
    }
  };
}

export interface Histogram {
  times: number[]; // seconds
  levels: { level: string; values: (number | null)[] }[];
  step: number;
}

/** Stacked bars of log volume by level. */
export function drawHistogram(el: HTMLElement, h: Histogram, range: { from: number; to: number }, onZoom: (f: number, t: number) => void, extra: uPlot.Plugin[] = []): ChartHandle {
  const levels = [...h.levels].sort((a, b) => LEVEL_ORDER.indexOf(a.level) - LEVEL_ORDER.indexOf(b.level));
  // Cumulative values, drawn from the top of the stack down so each bar covers the ones above it.
  const cum: number[][] = [];
  let acc = h.times.map(() => 0);
  for (const l of [...levels].reverse()) {
    acc = acc.map((a, i) => a + (l.values[i] ?? 0));
    cum.unshift(acc);
  }
  const raw = levels.map((l) => l.values);
  const names = levels.map((l) => l.level);
  const colours = levels.map((l) => levelColour(l.level));
  const bars = uPlot.paths.bars!({ size: [0.9, 40], align: 1 });
  return mount(el, (width) =>
    new uPlot(
      {
        width,
        height: 132,
        legend: { show: false },
        cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
        scales: { x: { time: true, range: () => [range.from / 1000, range.to / 1000] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: axes(),
        series: [{}, ...levels.map((l, i) => ({ label: l.level, fill: colours[i], stroke: colours[i], width: 0, paths: bars, points: { show: false } }))],
        hooks: { setSelect: [zoomHook(onZoom)] },
        plugins: [tooltipPlugin(() => raw, () => names, () => colours), ...extra],
      },
      [h.times.map((t) => t - h.step), ...cum],
      el,
    ),
  );
}

/** A dashed horizontal line at a value (an alert's threshold), kept inside the y scale. */
function thresholdHooks(value: number): Pick<uPlot.Options, 'hooks'>['hooks'] {
  return {
    draw: [
      (u) => {
        const y = Math.round(u.valToPos(value, 'y', true));
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = '#e5484d';
        ctx.lineWidth = 1.5 * devicePixelRatio;
        ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.beginPath();
        ctx.moveTo(u.bbox.left, y);
        ctx.lineTo(u.bbox.left + u.bbox.width, y);
        ctx.stroke();
        ctx.restore();
      },
    ],
  };
}

/** Lines, one per series, with a tooltip and a legend; optionally a threshold line. */
export function drawTimeseries(el: HTMLElement, times: number[], series: { name: string; values: (number | null)[] }[], range: { from: number; to: number }, onZoom: (f: number, t: number) => void, opts: { threshold?: number | null; height?: number; plugins?: uPlot.Plugin[] } = {}): ChartHandle {
  const colours = series.map((_, i) => seriesColour(i));
  const thr = opts.threshold ?? null;
  const yRange: uPlot.Range.Function = (_u, min, max) => {
    const lo = Math.min(min ?? thr!, thr!);
    const hi = Math.max(max ?? thr!, thr!);
    return uPlot.rangeNum(lo, hi === lo ? lo + 1 : hi, 0.1, true);
  };
  return mount(el, (width) =>
    new uPlot(
      {
        width,
        height: opts.height ?? 280,
        legend: { show: series.length <= 20, live: false },
        cursor: { drag: { x: true, y: false, setScale: false } },
        scales: { x: { time: true, range: () => [range.from / 1000, range.to / 1000] }, ...(thr !== null ? { y: { range: yRange } } : {}) },
        axes: axes(),
        series: [{}, ...series.map((s, i) => ({ label: s.name, stroke: colours[i], width: 1.5, spanGaps: false, points: { show: times.length < 60, size: 4 } }))],
        hooks: { setSelect: [zoomHook(onZoom)], ...(thr !== null ? thresholdHooks(thr) : {}) },
        plugins: [tooltipPlugin(() => series.map((s) => s.values), () => series.map((s) => s.name), () => colours), ...(opts.plugins ?? [])],
      },
      [times, ...series.map((s) => s.values)],
      el,
    ),
  );
}

