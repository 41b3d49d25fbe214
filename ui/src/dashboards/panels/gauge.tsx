// The gauge panel: an arc from min to max (default 0-100) per series, filled to the value in its
// threshold colour, with threshold markers around it.
import { For, onMount, Show } from 'solid-js';
import { reduced } from './reduce';
import { resolveColor, DEFAULT_THRESHOLDS } from '../thresholds';
import { defaultsOf, type PanelProps } from './types';

const START = -210, SWEEP = 240;

function arc(r: number, a0: number, a1: number) {
  const p = (a: number) => [50 + r * Math.cos((a * Math.PI) / 180), 55 + r * Math.sin((a * Math.PI) / 180)];
  const [x0, y0] = p(a0), [x1, y1] = p(a1);
  return `M${x0.toFixed(2)},${y0.toFixed(2)} A${r},${r} 0 ${a1 - a0 > 180 ? 1 : 0} 1 ${x1.toFixed(2)},${y1.toFixed(2)}`;
}

export default function GaugePanel(props: PanelProps) {
  const d = () => defaultsOf(props.panel);
  const items = () => reduced(props.panel, props.data, d());
  const min = () => d().min ?? 0;
  const max = () => d().max ?? 100;
  const frac = (v: number | null) => Math.max(0, Math.min(1, ((v ?? min()) - min()) / (max() - min() || 1)));
  const markers = () => {
    const t = d().thresholds ?? DEFAULT_THRESHOLDS;
    const pct = t.mode === 'percentage';
    const steps = t.steps ?? [];
    return steps.map((s, i) => {
      const lo = s.value == null ? 0 : pct ? s.value / 100 : frac(s.value);
      const nx = steps[i + 1];
      const hi = nx ? (pct ? (nx.value ?? 0) / 100 : frac(nx.value)) : 1;
      return { lo, hi, color: resolveColor(s.color) };
    });
  };
  onMount(() => requestAnimationFrame(props.onDrawn));
  return (
    <div class="gauges">
      <Show when={!items().length}>
        <div class="no-data">No data</div>
      </Show>
      <For each={items()}>
        {(it) => (
          <div class="gauge" data-testid="gauge">
            <svg viewBox="0 0 100 80" role="img" aria-label={`${it.name}: ${it.text}`}>
              <path d={arc(40, START, START + SWEEP)} class="gauge-track" fill="none" stroke-width="9" />
              <Show when={props.panel.options?.showThresholdMarkers !== false}>
                <For each={markers()}>{(m) => (m.hi > m.lo ? <path d={arc(46, START + m.lo * SWEEP, START + m.hi * SWEEP)} fill="none" stroke={m.color} stroke-width="2.5" /> : null)}</For>
              </Show>
              <Show when={frac(it.value) > 0}>
                <path d={arc(40, START, START + Math.max(0.5, frac(it.value) * SWEEP))} fill="none" stroke={it.color} stroke-width="9" />
              </Show>
              <text x="50" y="60" text-anchor="middle" class="gauge-text" fill={it.color} data-testid="gauge-value" data-value={it.value ?? ''}>
                {it.text}
              </text>
            </svg>
            <Show when={items().length > 1}>
              <div class="gauge-name">{it.name}</div>
            </Show>
          </div>
        )}
      </For>
    </div>
  );
}
