// The bar gauge panel: one horizontal (or vertical) bar per series from min to max, in its
// threshold colour, with the name and formatted value.
import { For, onMount, Show } from 'solid-js';
import { reduced } from './reduce';
import { defaultsOf, type PanelProps } from './types';

export default function BargaugePanel(props: PanelProps) {
  const d = () => defaultsOf(props.panel);
  const items = () => reduced(props.panel, props.data, d());
  const min = () => d().min ?? 0;
  const max = () => d().max ?? Math.max(100, ...items().map((i) => i.value ?? 0));
  const pct = (v: number | null) => Math.max(0, Math.min(100, (((v ?? min()) - min()) / (max() - min() || 1)) * 100));
  const vertical = () => props.panel.options?.orientation === 'vertical';
  onMount(() => requestAnimationFrame(props.onDrawn));
  return (
    <div class="bargauge" classList={{ vertical: vertical() }}>
      <Show when={!items().length}>
        <div class="no-data">No data</div>
      </Show>
      <For each={items()}>
        {(it) => (
          <div class="bg-row" data-testid="bargauge-row">
            <span class="bg-name" title={it.name}>{it.name}</span>
            <span class="bg-track">
              <span class="bg-fill" style={{ [vertical() ? 'height' : 'width']: `${pct(it.value)}%`, background: it.color }} />
            </span>
            <span class="bg-value" style={{ color: it.color }} data-testid="bargauge-value" data-value={it.value ?? ''}>
              {it.text}
            </span>
          </div>
        )}
      </For>
    </div>
  );
}
