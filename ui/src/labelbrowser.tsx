// The label browser: pick label names, then values, to build a stream selector.
import { createResource, createSignal, For, Show } from 'solid-js';
import { apiGet } from './api';
import { buildSelector } from './querymod';

export function LabelBrowser(props: { range: () => { start: string; end: string }; onUse: (selector: string, run: boolean) => void; onClose: () => void }) {
  const [picked, setPicked] = createSignal<Record<string, string[]>>({});
  const [names] = createResource(async () => ((await apiGet('/loki/api/v1/labels', props.range())).data ?? []).filter((n: string) => !n.startsWith('__')) as string[]);
  const [filter, setFilter] = createSignal('');
  const selector = () => buildSelector(picked());
  // Values of a label are those of streams that match the other picks.
  const othersSelector = (name: string) => {
    const o = { ...picked() };
    delete o[name];
    const sel = buildSelector(o);
    return sel === '{}' ? undefined : sel;
  };
  const toggleName = (n: string) => {
    const p = { ...picked() };
    if (n in p) delete p[n];
    else p[n] = [];
    setPicked(p);
  };
  const toggleValue = (n: string, v: string) => {
    const p = { ...picked() };
    const vs = p[n] ?? [];
    p[n] = vs.includes(v) ? vs.filter((x) => x !== v) : [...vs, v];
    setPicked(p);
  };
  return (
    <section class="panel label-browser" data-testid="label-browser" aria-label="Label browser">
      <div class="panel-head">
        <strong>Label browser</strong>
        <span class="muted">1. pick labels · 2. pick values · 3. use the selector</span>
        <button class="icon close" aria-label="Close label browser" onClick={props.onClose}>
          ✕
        </button>
      </div>
      <Show when={!names.error} fallback={<div class="error">{String(names.error?.message ?? names.error)}</div>}>
        <div class="chips">
          <For each={names() ?? []}>
            {(n) => (
              <button class="chip" classList={{ on: n in picked() }} aria-pressed={n in picked()} onClick={() => toggleName(n)} data-testid={`lb-label-${n}`}>
                {n}
              </button>
            )}
          </For>
        </div>
        <Show when={Object.keys(picked()).length}>
          <input class="search" type="search" placeholder="Filter values" value={filter()} onInput={(e) => setFilter(e.currentTarget.value)} aria-label="Filter values" />
          <div class="lb-values">
            <For each={Object.keys(picked())}>
              {(n) => <ValueList name={n} range={props.range} filter={filter()} selected={picked()[n] ?? []} others={othersSelector(n)} onToggle={(v) => toggleValue(n, v)} />}
            </For>
          </div>
        </Show>
      </Show>
      <div class="lb-foot">
        <code data-testid="lb-selector">{selector()}</code>
        <button disabled={selector() === '{}'} onClick={() => props.onUse(selector(), false)}>
          Use selector
        </button>
        <button class="primary" disabled={selector() === '{}'} onClick={() => props.onUse(selector(), true)} data-testid="lb-run">
          Show logs
        </button>
      </div>
    </section>
  );
}

function ValueList(props: { name: string; range: () => { start: string; end: string }; filter: string; selected: string[]; others?: string; onToggle: (v: string) => void }) {
  const [values] = createResource(
    () => props.others ?? '',
    async (query) => {
      const found = ((await apiGet(`/loki/api/v1/label/${encodeURIComponent(props.name)}/values`, { ...props.range(), query: query || undefined })).data ?? []) as string[];
      // Keep picked values visible even when other picks exclude them.
      return [...new Set([...found, ...props.selected])].sort();
    },
  );
  return (
    <div class="lb-col">
      <h4>{props.name}</h4>
      <Show when={!values.error} fallback={<div class="error">{String(values.error?.message)}</div>}>
        <ul role="listbox" aria-multiselectable="true" aria-label={`Values of ${props.name}`}>
          <For each={(values() ?? []).filter((v) => v.toLowerCase().includes(props.filter.toLowerCase()))}>
            {(v) => (
              <li>
                <label>
                  <input type="checkbox" checked={props.selected.includes(v)} onChange={() => props.onToggle(v)} data-testid={`lb-value-${props.name}-${v}`} /> {v}
                </label>
              </li>
            )}
          </For>
        </ul>
      </Show>
    </div>
  );
}
