// The panel inspector: the data as a table (each series' points, or the log lines) and the
// queries as sent (data source, interpolated expression, URL, time taken, errors).
import { createSignal, For, Show } from 'solid-js';
import { fmtTime } from '../time';
import type { Panel } from './model';
import type { PanelData } from './query';

export default function Inspect(props: { panel: Panel; title: string; data: PanelData; onClose: () => void }) {
  const [tab, setTab] = createSignal<'data' | 'query'>('data');
  const [which, setWhich] = createSignal(0);
  let box!: HTMLDivElement;
  const s = () => props.data.series[which()];
  return (
    <div class="modal-back" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="modal inspect" role="dialog" aria-modal="true" aria-label={`Inspect ${props.title}`} ref={(el) => ((box = el), requestAnimationFrame(() => box.focus()))} tabindex="-1" data-testid="inspect" onKeyDown={(e) => e.key === 'Escape' && props.onClose()}>
        <div class="panel-head">
          <strong>Inspect: {props.title || props.panel.type}</strong>
          <span class="grow" />
          <button class="icon close" onClick={props.onClose} aria-label="Close inspector">
            ✕
          </button>
        </div>
        <div class="al-tabs insp-tabs" role="tablist">
          <button role="tab" aria-selected={tab() === 'data'} onClick={() => setTab('data')} data-testid="inspect-data">
            Data
          </button>
          <button role="tab" aria-selected={tab() === 'query'} onClick={() => setTab('query')} data-testid="inspect-query">
            Query
          </button>
        </div>
        <Show when={tab() === 'data'}>
          <Show when={props.data.series.length > 1}>
            <select aria-label="Series" value={which()} onChange={(e) => setWhich(Number(e.currentTarget.value))}>
              <For each={props.data.series}>{(x, i) => <option value={i()}>{`${x.refId}: ${x.name}`}</option>}</For>
            </select>
          </Show>
          <div class="table-wrap insp-table">
            <Show
              when={props.data.series.length}
              fallback={
                <table class="metric-table" data-testid="inspect-table">
                  <thead>
                    <tr>
                      <th>Time</th>
                      <th>Line</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={props.data.logs.slice(0, 1000)}>
                      {(r) => (
                        <tr>
                          <td class="nowrap">{fmtTime(r.ms)}</td>
                          <td>{r.line}</td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              }
            >
              <table class="metric-table" data-testid="inspect-table">
                <thead>
                  <tr>
                    <th>Time</th>
                    <th>{s()?.name}</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={s()?.times ?? []}>
                    {(t, i) => (
                      <tr>
                        <td class="nowrap">{fmtTime(t, false)}</td>
                        <td class="num">{String(s()!.values[i()] ?? '')}</td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </Show>
          </div>
        </Show>
        <Show when={tab() === 'query'}>
          <div class="insp-queries" data-testid="inspect-queries">
            <For each={props.data.sent}>
              {(q) => (
                <div class="insp-q">
                  <div>
                    <strong>{q.refId}</strong> <span class="muted">· {q.datasource}</span>
                    <Show when={q.ms !== undefined}>
                      <span class="muted"> · {q.ms} ms · {q.rows} {props.data.logs.length && !props.data.series.length ? 'lines' : 'series'}</span>
                    </Show>
                  </div>
                  <code class="insp-expr" data-testid="inspect-expr">{q.expr}</code>
                  <code class="insp-url small">GET {q.url}</code>
                  <Show when={q.error}>
                    <div class="error small">{q.error}</div>
                  </Show>
                </div>
              )}
            </For>
            <Show when={props.data.intervalMs}>
              <div class="muted small">Interval {props.data.intervalMs / 1000}s</div>
            </Show>
          </div>
        </Show>
      </div>
    </div>
  );
}
