// The thresholds editor: a base colour and steps "from this value on, this colour", absolute or
// percentage, as Grafana's `fieldConfig.defaults.thresholds` keeps them (base step value null).
import { For } from 'solid-js';

export interface Step {
  color: string;
  value: number | null;
}
export interface Thresholds {
  mode: 'absolute' | 'percentage';
  steps: Step[];
}

const NAMED: Record<string, string> = { green: '#73bf69', red: '#f2495c', yellow: '#fade2a', orange: '#ff9830', blue: '#5794f2', purple: '#b877d9', text: '#8e8e8e', transparent: '#00000000' };
/** A colour input wants #rrggbb: Grafana's named colours translated. */
const hex = (c: string) => (NAMED[c] ?? (/^#[0-9a-f]{6}$/i.test(c) ? c : '#888888')).slice(0, 7);

export const DEFAULT_THRESHOLDS: Thresholds = { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: 80 }] };

export function ThresholdsEditor(props: { value: Thresholds | undefined; onChange: (t: Thresholds) => void }) {
  const t = () => props.value ?? DEFAULT_THRESHOLDS;
  // Highest first, as Grafana lists them; the base (null) last.
  const sorted = () => [...t().steps].sort((a, b) => (b.value ?? -Infinity) - (a.value ?? -Infinity));
  const write = (steps: Step[]) => props.onChange({ ...t(), steps: [...steps].sort((a, b) => (a.value ?? -Infinity) - (b.value ?? -Infinity)) });
  const add = () => {
    const top = Math.max(0, ...t().steps.map((s) => s.value ?? 0));
    write([...t().steps, { color: 'orange', value: top + 10 }]);
  };
  return (
    <div class="de-thresholds" data-testid="thresholds">
      <button type="button" class="de-quiet" onClick={add} data-testid="threshold-add">
        + Add threshold
      </button>
      <For each={sorted()}>
        {(s) => (
          <div class="de-threshold">
            <input type="color" value={hex(s.color)} aria-label="Threshold colour" onInput={(e) => write(t().steps.map((x) => (x === s ? { ...x, color: e.currentTarget.value } : x)))} />
            {s.value === null ? (
              <span class="muted small de-base">Base</span>
            ) : (
              <>
                <input
                  type="number"
                  value={s.value}
                  aria-label="Threshold value"
                  data-testid="threshold-value"
                  onChange={(e) => {
                    const v = Number(e.currentTarget.value);
                    if (e.currentTarget.value.trim() !== '' && Number.isFinite(v)) write(t().steps.map((x) => (x === s ? { ...x, value: v } : x)));
                  }}
                />
                <button type="button" class="icon" aria-label={`Remove threshold ${s.value}`} onClick={() => write(t().steps.filter((x) => x !== s))}>
                  ✕
                </button>
              </>
            )}
          </div>
        )}
      </For>
      <label class="de-inline small">
        <span>Mode</span>
        <select value={t().mode} onChange={(e) => props.onChange({ ...t(), mode: e.currentTarget.value as Thresholds['mode'] })} data-testid="threshold-mode">
          <option value="absolute">Absolute</option>
          <option value="percentage">Percentage</option>
        </select>
      </label>
    </div>
  );
}
