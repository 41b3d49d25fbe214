// A panel's queries: one block per target with its data source, the query (the LogQL editor for
// Loki, a PromQL field for Prometheus), legend format, instant and hide; add, remove. The panel's
// own `datasource` follows its targets: theirs when they agree, Grafana's "-- Mixed --" if not.
import { createEffect, createSignal, For, Index, onCleanup, onMount, Show } from 'solid-js';
import { createEditor, type QueryEditor } from '../../editor';
import { resolveDs } from './share';
import type { DataSource, DsRef, Panel, Target } from './shape';

export const MIXED: DsRef = { type: 'datasource', uid: '-- Mixed --' };

const refOf = (d: DataSource): DsRef => ({ type: d.type, uid: d.uid });

/** The next free refId: A, B, … Z, AA, … */
export function nextRefId(targets: Target[]) {
  const used = new Set(targets.map((t) => t.refId));
  for (let i = 0; ; i++) {
    const id = i < 26 ? String.fromCharCode(65 + i) : String.fromCharCode(64 + Math.floor(i / 26)) + String.fromCharCode(65 + (i % 26));
    if (!used.has(id)) return id;
  }
}

/** The panel with these targets, its datasource set from theirs. */
export function withTargets(p: Panel, targets: Target[], all: DataSource[]): Panel {
  const uids = new Set(targets.map((t) => resolveDs(t.datasource ?? p.datasource, all)?.uid));
  const one = uids.size === 1 ? all.find((d) => d.uid === [...uids][0]) : undefined;
  return { ...p, targets, datasource: one ? refOf(one) : uids.size > 1 ? MIXED : p.datasource };
}

function LogQLField(props: { value: string; onChange: (q: string) => void; onRun: () => void }) {
  let el!: HTMLDivElement;
  let ed: QueryEditor | undefined;
  onMount(() => {
    const range = () => {
      const to = Date.now();
      return { start: `${to - 3600e3}000000`, end: `${to}000000` };
    };
    ed = createEditor(el, props.value, { range, onRun: props.onRun, onChange: props.onChange });
    onCleanup(() => ed?.view.destroy());
    // A query removed above this one moves this one's text here.
    createEffect(() => ed?.set(props.value));
  });
  return <div class="editor de-logql" ref={el} data-testid="target-logql" />;
}

function TargetEditor(props: { t: Target; panelDs: Panel['datasource']; all: DataSource[]; onChange: (t: Target) => void; onRemove: () => void; onRun: () => void; removable: boolean }) {
  const ds = () => resolveDs(props.t.datasource ?? props.panelDs, props.all);
  const [open, setOpen] = createSignal(true);
  const set = (patch: Partial<Target>) => props.onChange({ ...props.t, ...patch });
  return (
    <div class="de-target" classList={{ hidden: false, off: !!props.t.hide }} data-testid="target" data-refid={props.t.refId}>
      <div class="de-target-head">
        <button type="button" class="icon" onClick={() => setOpen(!open())} aria-expanded={open()} aria-label={`Query ${props.t.refId}`}>
          {open() ? '▾' : '▸'}
        </button>
        <strong>{props.t.refId}</strong>
        <select value={ds()?.uid ?? ''} onChange={(e) => set({ datasource: refOf(props.all.find((d) => d.uid === e.currentTarget.value)!) })} aria-label={`Data source of query ${props.t.refId}`} data-testid="target-ds">
          <Show when={!ds()}>
            <option value="">Unknown data source</option>
          </Show>
          <For each={props.all}>
            {(d) => (
              <option value={d.uid}>
                {d.name} ({d.type})
              </option>
            )}
          </For>
        </select>
        <span class="grow" />
        <label class="de-check small">
          <input type="checkbox" checked={!!props.t.instant} onChange={(e) => set({ instant: e.currentTarget.checked, range: !e.currentTarget.checked })} data-testid="target-instant" />
          Instant
        </label>
        <label class="de-check small">
          <input type="checkbox" checked={!!props.t.hide} onChange={(e) => set({ hide: e.currentTarget.checked })} data-testid="target-hide" />
          Hide
        </label>
        <Show when={props.removable}>
          <button type="button" class="icon" onClick={props.onRemove} aria-label={`Remove query ${props.t.refId}`} data-testid="target-remove">
            ✕
          </button>
        </Show>
      </div>
      <Show when={open()}>
        <Show
          when={ds()?.type === 'prometheus'}
          fallback={<LogQLField value={String(props.t.expr ?? '')} onChange={(q) => set({ expr: q })} onRun={props.onRun} />}
        >
          <textarea
            class="de-promql"
            rows={2}
            value={String(props.t.expr ?? '')}
            placeholder='rate(http_requests_total{job="api"}[$__rate_interval])'
            aria-label={`PromQL query ${props.t.refId}`}
            spellcheck={false}
            onInput={(e) => set({ expr: e.currentTarget.value })}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey || e.shiftKey)) (e.preventDefault(), props.onRun());
            }}
            data-testid="target-promql"
          />
        </Show>
        <label class="de-inline small">
          <span>Legend</span>
          <input value={props.t.legendFormat ?? ''} placeholder="{{app}}" onInput={(e) => set({ legendFormat: e.currentTarget.value })} data-testid="target-legend" />
        </label>
      </Show>
    </div>
  );
}

export function QueriesEditor(props: { panel: Panel; all: DataSource[]; onChange: (p: Panel) => void; onRun: () => void }) {
  const targets = () => props.panel.targets ?? [];
  const write = (ts: Target[]) => props.onChange(withTargets(props.panel, ts, props.all));
  const add = () => {
    const last = targets().at(-1);
    const ds = resolveDs(last?.datasource ?? props.panel.datasource, props.all);
    write([...targets(), { refId: nextRefId(targets()), expr: '', ...(ds ? { datasource: refOf(ds) } : {}) }]);
  };
  return (
    <div class="de-queries" data-testid="queries">
      {/* By position: typing in a query keeps its editor (and focus). */}
      <Index each={targets()}>
        {(t, i) => (
          <TargetEditor
            t={t()}
            panelDs={props.panel.datasource}
            all={props.all}
            removable={targets().length > 1}
            onChange={(nt) => write(targets().map((x, j) => (j === i ? nt : x)))}
            onRemove={() => write(targets().filter((_, j) => j !== i))}
            onRun={props.onRun}
          />
        )}
      </Index>
      <button type="button" class="de-quiet" onClick={add} data-testid="target-add">
        + Add query
      </button>
    </div>
  );
}
