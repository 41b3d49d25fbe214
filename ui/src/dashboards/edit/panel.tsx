// The panel editor (/d/<uid>/<slug>?editPanel=<id>): the panel drawn live above its queries, the
// options on the side. Option changes redraw at once; queries run on Ctrl+Enter, "Run queries",
// or a moment after typing stops. "Back to dashboard" keeps the changes in the dashboard's draft,
// "Discard" forgets them.
import { createMemo, createSignal, onCleanup, Show, type JSX } from 'solid-js';
import { OptionsEditor } from './options';
import { QueriesEditor } from './queries';
import { clone, type DataSource, type Panel } from './shape';

export function PanelEditor(props: {
  panel: Panel;
  all: DataSource[];
  renderPanel: (p: () => Panel, size: () => { width: number; height: number }) => JSX.Element;
  onApply: (p: Panel) => void;
  onDiscard: () => void;
}) {
  const [panel, setPanel] = createSignal<Panel>(clone(props.panel));
  const [ran, setRan] = createSignal(clone(props.panel.targets ?? []));
  let timer: number | undefined;
  onCleanup(() => clearTimeout(timer));
  const run = () => {
    clearTimeout(timer);
    setRan(clone(panel().targets ?? []));
  };
  const change = (p: Panel) => {
    const queriesChanged = JSON.stringify(p.targets ?? []) !== JSON.stringify(panel().targets ?? []);
    setPanel(p);
    if (queriesChanged) {
      clearTimeout(timer);
      timer = window.setTimeout(run, 900);
    }
  };
  const preview = createMemo(() => ({ ...panel(), targets: ran(), datasource: panel().datasource }));
  const hasQueries = () => !['text', 'row'].includes(panel().type);
  const [previewHeight, setPreviewHeight] = createSignal(320);
  let previewEl!: HTMLDivElement;
  const [previewWidth, setPreviewWidth] = createSignal(800);
  const ro = new ResizeObserver(() => previewEl && setPreviewWidth(previewEl.clientWidth));
  onCleanup(() => ro.disconnect());

  return (
    <div class="de-panel-editor" data-testid="panel-editor" onKeyDown={(e) => e.key === 'Escape' && (e.target as HTMLElement).tagName !== 'TEXTAREA' && props.onApply(panel())}>
      <div class="de-pe-bar">
        <button type="button" class="primary" onClick={() => props.onApply(panel())} data-testid="panel-apply">
          ← Back to dashboard
        </button>
        <button type="button" onClick={props.onDiscard} data-testid="panel-discard">
          Discard panel changes
        </button>
        <span class="grow" />
        <span class="muted small">Edit panel · {panel().title || panel().type}</span>
      </div>
      <div class="de-pe-main">
        <div class="de-pe-left">
          <section class="panel de-pe-preview" data-testid="panel-preview">
            <div class="panel-head">
              <strong>{panel().title || 'No title'}</strong>
              <span class="grow" />
              <Show when={hasQueries()}>
                <button type="button" onClick={run} data-testid="run-queries" title="Run the queries (Ctrl+Enter in a query)">
                  Run queries
                </button>
              </Show>
            </div>
            <div
              class="de-pe-canvas"
              style={{ height: `${previewHeight()}px` }}
              ref={(el) => {
                previewEl = el;
                ro.observe(el);
              }}
            >
              {props.renderPanel(preview, () => ({ width: previewWidth(), height: previewHeight() }))}
            </div>
            <input type="range" class="de-pe-height" min="160" max="720" step="20" value={previewHeight()} onInput={(e) => setPreviewHeight(Number(e.currentTarget.value))} aria-label="Preview height" />
          </section>
          <Show when={hasQueries()}>
            <section class="panel">
              <div class="panel-head">
                <strong>Queries</strong>
                <span class="muted small">$__auto, $__interval, $__range and the dashboard's variables work here</span>
              </div>
              <QueriesEditor panel={panel()} all={props.all} onChange={change} onRun={run} />
            </section>
          </Show>
        </div>
        <aside class="de-pe-side panel">
          <OptionsEditor panel={panel()} onChange={change} />
        </aside>
      </div>
    </div>
  );
}
