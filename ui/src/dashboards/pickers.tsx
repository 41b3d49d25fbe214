// The variables' pickers at the top of a dashboard: a select for one value, a checklist with
// "All" for multi-value variables, a text field for textbox variables; hidden ones are not shown.
import { createSignal, For, Show } from 'solid-js';
import { closeOnOutside } from '../timepicker';
import type { VariableSet, VarState } from './variables';

const ALL = '$__all';

export function VariablePickers(props: { set: VariableSet }) {
  return (
    <div class="dvars" role="group" aria-label="Variables">
      <For each={props.set.states().filter((s) => s.def.hide !== 2 && s.def.type !== 'constant')}>
        {(s) => <Picker st={s} set={props.set} />}
      </For>
    </div>
  );
}

function Picker(props: { st: VarState; set: VariableSet }) {
  const d = () => props.st.def;
  const id = () => `var-${d().name}`;
  const label = () => d().label || d().name;
  return (
    <div class="dvar" data-testid={`var-${d().name}`}>
      <Show when={d().hide !== 1}>
        <label for={id()} title={d().description ?? undefined}>
          {label()}
        </label>
      </Show>
      <Show when={d().type === 'textbox'}>
        <input id={id()} value={props.st.current[0] ?? ''} onChange={(e) => props.set.select(d().name, [e.currentTarget.value])} aria-label={label()} />
      </Show>
      <Show when={d().type !== 'textbox' && !d().multi}>
        <select id={id()} value={props.st.current[0] ?? ''} onChange={(e) => props.set.select(d().name, [e.currentTarget.value])} aria-label={label()} disabled={props.st.loading && !props.st.options.length}>
          <Show when={d().includeAll}>
            <option value={ALL}>All</option>
          </Show>
          <For each={props.st.options}>{(o) => <option value={o.value}>{o.text}</option>}</For>
          <Show when={!props.st.options.length && !d().includeAll}>
            <option value="">{props.st.loading ? 'Loading…' : 'No values'}</option>
          </Show>
        </select>
      </Show>
      <Show when={d().type !== 'textbox' && d().multi}>
        <Multi st={props.st} set={props.set} id={id()} label={label()} />
      </Show>
      <Show when={props.st.error}>
        <span class="dvar-err" role="img" title={props.st.error} aria-label={`Error: ${props.st.error}`}>
          !
        </span>
      </Show>
    </div>
  );
}

function Multi(props: { st: VarState; set: VariableSet; id: string; label: string }) {
  const [open, setOpen] = createSignal(false);
  let wrap: HTMLDivElement | undefined;
  closeOnOutside(() => wrap, open, () => setOpen(false));
  const cur = () => props.st.current;
  const isAll = () => cur().length === 1 && cur()[0] === ALL;
  const text = () => (isAll() ? 'All' : cur().map((v) => props.st.options.find((o) => o.value === v)?.text ?? v).join(' + ') || 'None');
  const toggle = (v: string) => {
    if (v === ALL) return props.set.select(props.st.def.name, [ALL]);
    const base = isAll() ? [] : cur();
    const next = base.includes(v) ? base.filter((x) => x !== v) : [...base, v];
    props.set.select(props.st.def.name, next.length ? next : props.st.def.includeAll ? [ALL] : []);
  };
  return (
    <div class="popover-wrap" ref={wrap} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
      <button id={props.id} class="dvar-multi" aria-haspopup="listbox" aria-expanded={open()} onClick={() => setOpen(!open())} title={text()}>
        {text()} ▾
      </button>
      <Show when={open()}>
        <div class="popover dvar-pop" role="listbox" aria-multiselectable="true" aria-label={props.label}>
          <Show when={props.st.def.includeAll}>
            <label class="dvar-opt">
              <input type="checkbox" checked={isAll()} onChange={() => toggle(ALL)} /> All
            </label>
          </Show>
          <For each={props.st.options}>
            {(o) => (
              <label class="dvar-opt">
                <input type="checkbox" checked={!isAll() && cur().includes(o.value)} onChange={() => toggle(o.value)} /> {o.text}
              </label>
            )}
          </For>
        </div>
      </Show>
    </div>
  );
}
