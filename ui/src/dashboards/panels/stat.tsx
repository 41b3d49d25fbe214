// The stat panel: one big number per series (reduced by `reduceOptions.calcs`), in the panel's
// unit, coloured by thresholds (the value or the background), with an optional sparkline.
import { For, onMount, Show } from 'solid-js';
import { reduced } from './reduce';
import { defaultsOf, type PanelProps } from './types';

function sparkPath(values: (number | null)[]) {
  const nums = values.map((v) => v ?? 0);
  if (nums.length < 2) return '';
  const lo = Math.min(...nums), hi = Math.max(...nums);
  const span = hi - lo || 1;
  return nums.map((v, i) => `${i ? 'L' : 'M'}${((i / (nums.length - 1)) * 100).toFixed(2)},${(30 - ((v - lo) / span) * 28).toFixed(2)}`).join('');
}

export default function StatPanel(props: PanelProps) {
  const items = () => reduced(props.panel, props.data, defaultsOf(props.panel));
  const mode = () => props.panel.options?.colorMode ?? 'value';
  const graph = () => props.panel.options?.graphMode !== 'none' && !props.data.instant;
  const textMode = () => props.panel.options?.textMode ?? 'auto';
  onMount(() => requestAnimationFrame(props.onDrawn));
  return (
    <div class="stats" classList={{ column: props.panel.options?.orientation === 'vertical' }}>
      <Show when={!items().length}>
        <div class="stat" data-testid="stat">
          <span class="stat-value muted" data-testid="stat-value">{defaultsOf(props.panel).noValue ?? 'No data'}</span>
        </div>
      </Show>
      <For each={items()}>
        {(it) => (
          <div class="stat" classList={{ bg: mode() === 'background' }} style={mode() === 'background' ? { background: it.color } : {}} data-testid="stat">
            <Show when={(textMode() === 'auto' && items().length > 1) || textMode() === 'value_and_name' || textMode() === 'name'}>
              <span class="stat-name">{it.name}</span>
            </Show>
            <Show when={textMode() !== 'name'}>
              <span class="stat-value" style={mode() === 'value' ? { color: it.color } : {}} data-testid="stat-value" data-value={it.value ?? ''}>
                {it.text}
              </span>
            </Show>
            <Show when={graph() && it.values.length > 1}>
              <svg class="spark" viewBox="0 0 100 30" preserveAspectRatio="none" aria-hidden="true">
                <path d={sparkPath(it.values)} fill="none" stroke={mode() === 'background' ? 'rgba(255,255,255,.7)' : it.color} stroke-width="1.5" vector-effect="non-scaling-stroke" />
              </svg>
            </Show>
          </div>
        )}
      </For>
    </div>
  );
}
