// The variables editor: the dashboard's `templating.list` as Grafana keeps it, one form per type
// (custom, query, textbox, constant, interval, datasource); add, remove, move up.
import { For, Index, Show } from 'solid-js';
import type { DataSource, Variable } from './shape';

const TYPES: [string, string][] = [
  ['query', 'Query'],
  ['custom', 'Custom'],
  ['textbox', 'Text box'],
  ['constant', 'Constant'],
  ['interval', 'Interval'],
  ['datasource', 'Data source'],
];
const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A message naming what is wrong with the variables, or null. */
export function checkVariables(vs: Variable[]): string | null {
  const seen = new Set<string>();
  for (const v of vs) {
    if (!NAME.test(v.name ?? '')) return `Variable "${v.name}": a name is letters, digits and _, not starting with a digit.`;
    if (seen.has(v.name)) return `Two variables are named "${v.name}".`;
    seen.add(v.name);
  }
  return null;
}

function fresh(type: string, name: string, all: DataSource[]): Variable {
  const base: Variable = { type, name, label: '', hide: 0 };
  const def = all.find((d) => d.isDefault) ?? all[0];
  switch (type) {
    case 'query':
      return { ...base, datasource: def ? { type: def.type, uid: def.uid } : null, query: '', definition: '', refresh: 1, regex: '', sort: 1, multi: false, includeAll: false, options: [], current: {} };
    case 'custom':
      return { ...base, query: 'a, b, c', multi: false, includeAll: false, options: [], current: {} };
    case 'textbox':
      return { ...base, query: '', current: {} };
    case 'constant':
      return { ...base, query: '', hide: 2 };
    case 'interval':
      return { ...base, query: '1m,5m,10m,30m,1h,6h,12h,1d', auto: false, auto_count: 30, auto_min: '10s', current: {} };
    case 'datasource':
      return { ...base, query: 'loki', regex: '', multi: false, includeAll: false, current: {} };
  }
  return base;
}

function VariableForm(props: { v: Variable; all: DataSource[]; onChange: (v: Variable) => void; onRemove: () => void; onUp?: () => void }) {
  const set = (patch: Partial<Variable>) => props.onChange({ ...props.v, ...patch });
  const q = () => (typeof props.v.query === 'string' ? props.v.query : ((props.v.query as any)?.query ?? ''));
  const multi = () => (
    <>
      <label class="de-check small">
        <input type="checkbox" checked={!!props.v.multi} onChange={(e) => set({ multi: e.currentTarget.checked })} data-testid="var-multi" />
        Multi-value
      </label>
      <label class="de-check small">
        <input type="checkbox" checked={!!props.v.includeAll} onChange={(e) => set({ includeAll: e.currentTarget.checked })} data-testid="var-include-all" />
        Include All
      </label>
    </>
  );
  return (
    <fieldset class="de-variable" data-testid="variable" data-name={props.v.name}>
      <div class="de-var-head">
        <label class="de-field">
          <span>Type</span>
          <select value={props.v.type} onChange={(e) => props.onChange({ ...fresh(e.currentTarget.value, props.v.name, props.all), label: props.v.label })} data-testid="var-type">
            <For each={TYPES}>{([id, n]) => <option value={id}>{n}</option>}</For>
          </select>
        </label>
        <label class="de-field">
          <span>Name</span>
          <input value={props.v.name} onInput={(e) => set({ name: e.currentTarget.value })} data-testid="var-name" aria-invalid={!NAME.test(props.v.name)} />
        </label>
        <label class="de-field">
          <span>Label</span>
          <input value={String(props.v.label ?? '')} onInput={(e) => set({ label: e.currentTarget.value })} data-testid="var-label" />
        </label>
        <label class="de-field">
          <span>Hide</span>
          <select value={String(props.v.hide ?? 0)} onChange={(e) => set({ hide: Number(e.currentTarget.value) })}>
            <option value="0">Nothing</option>
            <option value="1">Label</option>
            <option value="2">Variable</option>
          </select>
        </label>
        <span class="grow" />
        <Show when={props.onUp}>
          <button type="button" class="icon" onClick={props.onUp} aria-label={`Move ${props.v.name} up`}>
            ↑
          </button>
        </Show>
        <button type="button" class="icon" onClick={props.onRemove} aria-label={`Remove variable ${props.v.name}`} data-testid="var-remove">
          ✕
        </button>
      </div>
      <Show when={props.v.type === 'query'}>
        <label class="de-field">
          <span>Data source</span>
          <select value={typeof props.v.datasource === 'object' ? (props.v.datasource?.uid ?? '') : String(props.v.datasource ?? '')} onChange={(e) => {
            const d = props.all.find((x) => x.uid === e.currentTarget.value);
            if (d) set({ datasource: { type: d.type, uid: d.uid } });
          }} data-testid="var-ds">
            <For each={props.all}>{(d) => <option value={d.uid}>{d.name} ({d.type})</option>}</For>
          </select>
        </label>
        <label class="de-field de-wide">
          <span>Query</span>
          <input value={q()} placeholder='label_values({job="app"}, app)' onInput={(e) => set({ query: e.currentTarget.value, definition: e.currentTarget.value })} data-testid="var-query" spellcheck={false} />
        </label>
        <label class="de-field">
          <span>Regex</span>
          <input value={String(props.v.regex ?? '')} placeholder="/(.*)-prod/" onInput={(e) => set({ regex: e.currentTarget.value })} />
        </label>
        <label class="de-field">
          <span>Refresh</span>
          <select value={String(props.v.refresh ?? 1)} onChange={(e) => set({ refresh: Number(e.currentTarget.value) })}>
            <option value="1">On dashboard load</option>
            <option value="2">On time range change</option>
          </select>
        </label>
        <label class="de-field">
          <span>Sort</span>
          <select value={String(props.v.sort ?? 0)} onChange={(e) => set({ sort: Number(e.currentTarget.value) })}>
            <option value="0">Disabled</option>
            <option value="1">Alphabetical (asc)</option>
            <option value="2">Alphabetical (desc)</option>
            <option value="3">Numerical (asc)</option>
            <option value="4">Numerical (desc)</option>
          </select>
        </label>
        {multi()}
      </Show>
      <Show when={props.v.type === 'custom'}>
        <label class="de-field de-wide">
          <span>Values separated by comma</span>
          <input value={q()} placeholder="a, b, key : value" onInput={(e) => set({ query: e.currentTarget.value })} data-testid="var-query" />
        </label>
        {multi()}
      </Show>
      <Show when={props.v.type === 'textbox' || props.v.type === 'constant'}>
        <label class="de-field de-wide">
          <span>{props.v.type === 'textbox' ? 'Default value' : 'Value'}</span>
          <input value={q()} onInput={(e) => set({ query: e.currentTarget.value })} data-testid="var-query" />
        </label>
      </Show>
      <Show when={props.v.type === 'interval'}>
        <label class="de-field de-wide">
          <span>Values</span>
          <input value={q()} onInput={(e) => set({ query: e.currentTarget.value })} data-testid="var-query" />
        </label>
        <label class="de-check small">
          <input type="checkbox" checked={!!props.v.auto} onChange={(e) => set({ auto: e.currentTarget.checked })} />
          Auto option
        </label>
      </Show>
      <Show when={props.v.type === 'datasource'}>
        <label class="de-field">
          <span>Type</span>
          <select value={q()} onChange={(e) => set({ query: e.currentTarget.value })} data-testid="var-query">
            <option value="loki">Loki</option>
            <option value="prometheus">Prometheus</option>
          </select>
        </label>
        <label class="de-field">
          <span>Name filter (regex)</span>
          <input value={String(props.v.regex ?? '')} onInput={(e) => set({ regex: e.currentTarget.value })} />
        </label>
        {multi()}
      </Show>
    </fieldset>
  );
}

export function VariablesEditor(props: { list: Variable[]; all: DataSource[]; onChange: (vs: Variable[]) => void }) {
  const add = () => {
    let i = props.list.length + 1;
    while (props.list.some((v) => v.name === `var${i}`)) i++;
    props.onChange([...props.list, fresh('custom', `var${i}`, props.all)]);
  };
  return (
    <div class="de-variables" data-testid="variables-editor">
      <Show when={!props.list.length}>
        <p class="muted">No variables. A variable is used in queries as $name or ${'{name}'}.</p>
      </Show>
      <Index each={props.list}>
        {(v, i) => (
          <VariableForm
            v={v()}
            all={props.all}
            onChange={(nv) => props.onChange(props.list.map((x, j) => (j === i ? nv : x)))}
            onRemove={() => props.onChange(props.list.filter((_, j) => j !== i))}
            onUp={i > 0 ? () => props.onChange(props.list.map((x, j) => (j === i - 1 ? props.list[i] : j === i ? props.list[i - 1] : x))) : undefined}
          />
        )}
      </Index>
      <button type="button" class="de-quiet" onClick={add} data-testid="var-add">
        + Add variable
      </button>
    </div>
  );
}
