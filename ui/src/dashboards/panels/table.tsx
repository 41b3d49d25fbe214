// The table panel: metric series as rows (their labels as columns, the value in the panel's unit;
// range queries show each series' last value), log lines as time, labels and line. Columns sort
// on click.
import { createMemo, createSignal, For, onMount, Show } from 'solid-js';
import { fmtTime } from '../../time';
import { reduce } from '../query';
import { formatValue } from '../units';
import { colorFor } from '../thresholds';
import { defaultsOf, type PanelProps } from './types';

interface Table {
  columns: string[];
  rows: (string | number | null)[][];
  valueCol: number;
}

export function toTable(props: PanelProps): Table {
  if (props.data.logs.length && !props.data.series.length) {
    const keys = [...new Set(props.data.logs.flatMap((r) => Object.keys(r.labels)))].sort();
    return { columns: ['Time', ...keys, 'Line'], rows: props.data.logs.map((r) => [fmtTime(r.ms), ...keys.map((k) => r.labels[k] ?? ''), r.line]), valueCol: -1 };
  }
  const keys = [...new Set(props.data.series.flatMap((s) => Object.keys(s.labels)))].filter((k) => k !== '__name__' || props.data.series.some((s) => s.labels.__name__)).sort();
  const calc = props.panel.options?.reduceOptions?.calcs?.[0] ?? 'lastNotNull';
  const multiTarget = new Set(props.data.series.map((s) => s.refId)).size > 1;
  const columns = [...(multiTarget ? ['Query'] : []), ...keys, 'Value'];
  const rows = props.data.series.map((s) => [...(multiTarget ? [s.refId] : []), ...keys.map((k) => s.labels[k] ?? ''), reduce(s.values, calc)]);
  return { columns, rows, valueCol: columns.length - 1 };
}

export default function TablePanel(props: PanelProps) {
  const d = () => defaultsOf(props.panel);
  const table = createMemo(() => toTable(props));
  // Grafana's `options.sortBy: [{displayName, desc}]` is the initial order; a click changes it.
  const initial = (): { col: number; desc: boolean } | null => {
    const by = props.panel.options?.sortBy?.[0];
    const col = by ? table().columns.indexOf(by.displayName) : -1;
    return by && col >= 0 ? { col, desc: !!by.desc } : null;
  };
  const [sort, setSort] = createSignal<{ col: number; desc: boolean } | null>(initial());
  const rows = () => {
    const s = sort();
    const r = table().rows;
    if (!s) return r;
    const cmp = (a: any, b: any) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a ?? '').localeCompare(String(b ?? '')));
    return [...r].sort((a, b) => (s.desc ? -1 : 1) * cmp(a[s.col], b[s.col]));
  };
  const clickSort = (i: number) => setSort((s) => (s?.col === i ? (s.desc ? null : { col: i, desc: true }) : { col: i, desc: false }));
  const cell = (v: string | number | null, i: number) => (i === table().valueCol && typeof v === 'number' ? formatValue(v, d().unit, d().decimals) : v == null ? '' : String(v));
  onMount(() => requestAnimationFrame(props.onDrawn));
  return (
    <div class="dtable-wrap">
      <Show when={table().rows.length} fallback={<div class="no-data">No data</div>}>
        <table class="dtable" data-testid="table">
          <Show when={props.panel.options?.showHeader !== false}>
            <thead>
              <tr>
                <For each={table().columns}>
                  {(c, i) => (
                    <th aria-sort={sort()?.col === i() ? (sort()!.desc ? 'descending' : 'ascending') : undefined}>
                      <button class="th-sort" onClick={() => clickSort(i())}>
                        {c}
                        {sort()?.col === i() ? (sort()!.desc ? ' ↓' : ' ↑') : ''}
                      </button>
                    </th>
                  )}
                </For>
              </tr>
            </thead>
          </Show>
          <tbody>
            <For each={rows()}>
              {(r) => (
                <tr>
                  <For each={r}>
                    {(v, i) => (
                      <td classList={{ num: typeof v === 'number' }} style={i() === table().valueCol && typeof v === 'number' && d().thresholds ? { color: colorFor(v, d().thresholds, d().min, d().max) } : {}} data-value={typeof v === 'number' ? v : undefined}>
                        {cell(v, i())}
                      </td>
                    )}
                  </For>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </Show>
    </div>
  );
}
