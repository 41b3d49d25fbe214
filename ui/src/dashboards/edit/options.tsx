// A panel's options: visualization, title and description, standard field options (unit, min,
// max, decimals, thresholds), legend, and for time series the draw style, stacking and fill.
// Writes Grafana's JSON places: `fieldConfig.defaults`, `fieldConfig.defaults.custom`, `options`.
import { For, Show, type JSX } from 'solid-js';
import { DEFAULT_THRESHOLDS, ThresholdsEditor } from './thresholds';
import { UNITS } from './units';
import { PANEL_TYPES, type Panel } from './shape';

const CHARTS = new Set(['timeseries', 'barchart']);
const LEGENDS = new Set(['timeseries', 'barchart', 'piechart']);
const FIELDS = new Set(['timeseries', 'barchart', 'stat', 'gauge', 'bargauge', 'table']);

function Field(props: { label: string; children: JSX.Element; hint?: string }) {
  return (
    <label class="de-field">
      <span>{props.label}</span>
      {props.children}
      <Show when={props.hint}>
        <small class="muted">{props.hint}</small>
      </Show>
    </label>
  );
}

function Section(props: { title: string; children: JSX.Element; open?: boolean }) {
  return (
    <details class="de-section" open={props.open ?? true}>
      <summary>{props.title}</summary>
      <div class="de-section-body">{props.children}</div>
    </details>
  );
}

const numOrUndef = (s: string) => (s.trim() === '' || !Number.isFinite(Number(s)) ? undefined : Number(s));

export function OptionsEditor(props: { panel: Panel; onChange: (p: Panel) => void }) {
  const p = () => props.panel;
  const defaults = () => p().fieldConfig?.defaults ?? {};
  const custom = () => defaults().custom ?? {};
  const opts = () => p().options ?? {};
  const legend = () => opts().legend ?? { showLegend: true, displayMode: 'list', placement: 'bottom' };
  const setDefaults = (patch: Record<string, unknown>) => {
    const d: Record<string, any> = { ...defaults(), ...patch };
    for (const k of Object.keys(patch)) if (patch[k] === undefined) delete d[k];
    props.onChange({ ...p(), fieldConfig: { overrides: [], ...p().fieldConfig, defaults: d } });
  };
  const setCustom = (patch: Record<string, unknown>) => setDefaults({ custom: { ...custom(), ...patch } });
  const setOptions = (patch: Record<string, unknown>) => props.onChange({ ...p(), options: { ...opts(), ...patch } });
  const setType = (type: string) => {
    const next: Panel = { ...p(), type };
    if (type === 'text' && !next.options?.content) next.options = { mode: 'markdown', content: '# Title\n\nText in **markdown**.' };
    props.onChange(next);
  };

  return (
    <div class="de-options" data-testid="panel-options">
      <Section title="Panel">
        <Field label="Visualization">
          <select value={p().type} onChange={(e) => setType(e.currentTarget.value)} data-testid="viz-picker">
            <For each={PANEL_TYPES}>{([id, name]) => <option value={id}>{name}</option>}</For>
            <Show when={!PANEL_TYPES.some(([id]) => id === p().type)}>
              <option value={p().type}>{p().type} (not drawn by Bitácora)</option>
            </Show>
          </select>
        </Field>
        <Field label="Title">
          <input value={p().title ?? ''} onInput={(e) => props.onChange({ ...p(), title: e.currentTarget.value })} data-testid="panel-title" />
        </Field>
        <Field label="Description">
          <textarea rows={2} value={p().description ?? ''} onInput={(e) => props.onChange({ ...p(), description: e.currentTarget.value })} data-testid="panel-description" />
        </Field>
      </Section>
      <Show when={p().type === 'text'}>
        <Section title="Text">
          <Field label="Mode">
            <select value={opts().mode ?? 'markdown'} onChange={(e) => setOptions({ mode: e.currentTarget.value })}>
              <option value="markdown">Markdown</option>
              <option value="html">HTML</option>
            </select>
          </Field>
          <Field label="Content">
            <textarea rows={8} value={opts().content ?? ''} onInput={(e) => setOptions({ content: e.currentTarget.value })} data-testid="text-content" />
          </Field>
        </Section>
      </Show>
      <Show when={LEGENDS.has(p().type)}>
        <Section title="Legend">
          <label class="de-check">
            <input type="checkbox" checked={legend().showLegend !== false} onChange={(e) => setOptions({ legend: { ...legend(), showLegend: e.currentTarget.checked } })} data-testid="legend-show" />
            Show the legend
          </label>
          <Field label="Mode">
            <select value={legend().displayMode ?? 'list'} onChange={(e) => setOptions({ legend: { ...legend(), displayMode: e.currentTarget.value } })} data-testid="legend-mode">
              <option value="list">List</option>
              <option value="table">Table</option>
            </select>
          </Field>
          <Field label="Placement">
            <select value={legend().placement ?? 'bottom'} onChange={(e) => setOptions({ legend: { ...legend(), placement: e.currentTarget.value } })} data-testid="legend-placement">
              <option value="bottom">Bottom</option>
              <option value="right">Right</option>
            </select>
          </Field>
          <Field label="Values" hint="comma separated: lastNotNull, min, max, mean, sum">
            <input value={(legend().calcs ?? []).join(', ')} onChange={(e) => setOptions({ legend: { ...legend(), calcs: e.currentTarget.value.split(',').map((s) => s.trim()).filter(Boolean) } })} data-testid="legend-calcs" />
          </Field>
        </Section>
      </Show>
      <Show when={CHARTS.has(p().type)}>
        <Section title="Graph styles">
          <Show when={p().type === 'timeseries'}>
            <Field label="Style">
              <select value={custom().drawStyle ?? 'line'} onChange={(e) => setCustom({ drawStyle: e.currentTarget.value })} data-testid="draw-style">
                <option value="line">Lines</option>
                <option value="bars">Bars</option>
                <option value="points">Points</option>
              </select>
            </Field>
          </Show>
          <Field label="Fill opacity" hint={`${custom().fillOpacity ?? 0}`}>
            <input type="range" min="0" max="100" step="5" value={custom().fillOpacity ?? 0} onInput={(e) => setCustom({ fillOpacity: Number(e.currentTarget.value) })} data-testid="fill-opacity" />
          </Field>
          <Field label="Stack series">
            <select value={custom().stacking?.mode ?? 'none'} onChange={(e) => setCustom({ stacking: { group: 'A', ...custom().stacking, mode: e.currentTarget.value } })} data-testid="stacking">
              <option value="none">Off</option>
              <option value="normal">Normal</option>
              <option value="percent">100%</option>
            </select>
          </Field>
        </Section>
      </Show>
      <Show when={FIELDS.has(p().type)}>
        <Section title="Standard options">
          <Field label="Unit">
            <input list="de-units" value={defaults().unit ?? ''} placeholder="short" onChange={(e) => setDefaults({ unit: e.currentTarget.value.trim() || undefined })} data-testid="unit" />
            <datalist id="de-units">
              <For each={UNITS}>{([group, us]) => <For each={us}>{([id, name]) => <option value={id}>{`${group} / ${name}`}</option>}</For>}</For>
            </datalist>
          </Field>
          <div class="de-row3">
            <Field label="Min">
              <input type="number" value={defaults().min ?? ''} placeholder="auto" onChange={(e) => setDefaults({ min: numOrUndef(e.currentTarget.value) })} data-testid="min" />
            </Field>
            <Field label="Max">
              <input type="number" value={defaults().max ?? ''} placeholder="auto" onChange={(e) => setDefaults({ max: numOrUndef(e.currentTarget.value) })} data-testid="max" />
            </Field>
            <Field label="Decimals">
              <input type="number" min="0" max="10" value={defaults().decimals ?? ''} placeholder="auto" onChange={(e) => setDefaults({ decimals: numOrUndef(e.currentTarget.value) })} data-testid="decimals" />
            </Field>
          </div>
        </Section>
        <Section title="Thresholds">
          <ThresholdsEditor value={defaults().thresholds ?? DEFAULT_THRESHOLDS} onChange={(t) => setDefaults({ thresholds: t })} />
        </Section>
      </Show>
    </div>
  );
}
