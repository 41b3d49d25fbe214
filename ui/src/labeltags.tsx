// Labels shown as small tags before each log line (Grafana's "unique labels"): the picker offers the
// result's label names (stream labels and structured metadata) whose values differ between lines,
// such as container_name, stream, dyno or container_id; the choice is remembered in localStorage.
import { createMemo, createSignal, For, Show } from 'solid-js';
import type { LogRow } from './api';
import { closeOnOutside } from './timepicker';
import './labeltags.css';

const KEY = 'bitacora.logTags';
// Already shown another way (the level colour) or the same for every line of a query.
const SKIP = new Set(['detected_level', 'service_name']);
const SCAN = 5000;

export function loadTags(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export function saveTags(names: string[]) {
  try {
    localStorage.setItem(KEY, JSON.stringify(names));
  } catch {}
}

/** A line's value of a label: its stream label, else its structured metadata. */
export const tagValue = (r: LogRow, name: string): string | undefined => r.labels[name] ?? r.meta[name];

/** Label names whose value differs between the rows (absent counts as a value), with their count of values. */
export function uniqueLabels(rows: LogRow[]): { name: string; values: number }[] {
  const seen = new Map<string, Set<string>>();
  const n = Math.min(rows.length, SCAN);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    for (const src of [r.labels, r.meta]) for (const [k, v] of Object.entries(src)) if (!SKIP.has(k)) (seen.get(k) ?? seen.set(k, new Set()).get(k)!).add(v);
  }
  const out: { name: string; values: number }[] = [];
  for (const [name, vals] of seen) {
    let absent = false;
    for (let i = 0; i < n && !absent; i++) absent = tagValue(rows[i], name) === undefined;
    const count = vals.size + (absent ? 1 : 0);
    if (count > 1) out.push({ name, values: vals.size });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export function LabelTagsPicker(props: { rows: LogRow[]; chosen: string[]; onChange: (names: string[]) => void }) {
  const [open, setOpen] = createSignal(false);
  let wrap: HTMLDivElement | undefined;
  closeOnOutside(() => wrap, open, () => setOpen(false));
  const names = createMemo(() => (open() ? uniqueLabels(props.rows) : []));
  const extra = () => props.chosen.filter((c) => !names().some((n) => n.name === c));
  const toggle = (name: string, on: boolean) => props.onChange(on ? [...props.chosen.filter((c) => c !== name), name] : props.chosen.filter((c) => c !== name));
  return (
    <div class="popover-wrap" ref={wrap} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
      <button onClick={() => setOpen(!open())} aria-expanded={open()} data-testid="tags-open" title="Show chosen labels before each line">
        Labels on lines{props.chosen.length ? ` (${props.chosen.length})` : ''}
      </button>
      <Show when={open()}>
        <div class="popover tags-pop" role="group" aria-label="Labels shown on each line" data-testid="tags-pop">
          <div class="muted small">Labels whose values differ between these lines</div>
          <Show when={names().length || extra().length} fallback={<div class="muted small">Every line has the same labels.</div>}>
            <For each={[...names(), ...extra().map((name) => ({ name, values: 0 }))]}>
              {(n) => (
                <label class="inline tags-item">
                  <input type="checkbox" checked={props.chosen.includes(n.name)} onChange={(e) => toggle(n.name, e.currentTarget.checked)} data-testid={`tag-choice-${n.name}`} />
                  <span>{n.name}</span>
                  <Show when={n.values}>
                    <span class="muted small">{n.values} values</span>
                  </Show>
                </label>
              )}
            </For>
          </Show>
        </div>
      </Show>
    </div>
  );
}
