// "Show context": the lines around one line, oldest first, in its own stream or, for a container's
// line, across all the container's streams (its labels without `stream`), so a stdout "job
// failed" line shows the stderr stack trace next to it.
import { createSignal, onMount, Show } from 'solid-js';
import { cmpTs, flattenStreams, labelSelector, queryRange, type LogRow } from './api';
import { LogList } from './loglist';
import { fmtTime } from './time';

const ALL_STREAMS_KEY = 'bitacora.contextAllStreams';

/** The selector of the lines around `row`: its stream, or all streams of its container (no `stream`). */
export function contextSelector(row: LogRow, allStreams: boolean): string {
  if (!allStreams || row.labels.stream === undefined) return labelSelector(row.labels);
  const { stream: _stream, ...rest } = row.labels;
  return labelSelector(rest);
}

export function ContextView(props: { row: LogRow; patterns: RegExp[]; tags?: string[]; onClose: () => void }) {
  const [rows, setRows] = createSignal<LogRow[]>([props.row]);
  const [err, setErr] = createSignal<string | null>(null);
  const [loading, setLoading] = createSignal(true);
  const [size, setSize] = createSignal(10);
  const canSpan = props.row.labels.stream !== undefined && Object.keys(props.row.labels).length > 1;
  const [allStreams, setAllStreams] = createSignal(canSpan && localStorage.getItem(ALL_STREAMS_KEY) === '1');
  let box!: HTMLDivElement;
  const sel = () => contextSelector(props.row, allStreams());
  const load = async () => {
    setLoading(true);
    const r = props.row;
    const q = sel();
    const ts = BigInt(r.ts);
    const hour = 3600n * 1_000_000_000n;
    try {
      const [before, after] = await Promise.all([
        queryRange(q, { start: String(ts - hour), end: String(ts), limit: size(), direction: 'backward' }),
        queryRange(q, { start: String(ts), end: String(ts + hour), limit: size() + 5, direction: 'forward' }),
      ]);
      if (q !== sel()) return;
      const b = flattenStreams(before.data.result).sort(cmpTs);
      let a = flattenStreams(after.data.result).sort(cmpTs);
      const self = a.findIndex((x) => x.ts === r.ts && x.line === r.line && (x.labels.stream ?? '') === (r.labels.stream ?? ''));
      if (self >= 0) a.splice(self, 1);
      a = a.slice(0, size());
      setRows([...b, r, ...a]);
      setErr(null);
      requestAnimationFrame(() => box.querySelector<HTMLElement>('.row.hl')?.scrollIntoView({ block: 'center' }));
    } catch (e: any) {
      setErr(e.message);
    } finally {
      setLoading(false);
    }
  };
  const toggleAll = (v: boolean) => {
    setAllStreams(v);
    try {
      localStorage.setItem(ALL_STREAMS_KEY, v ? '1' : '0');
    } catch {}
    load();
  };
  onMount(() => {
    load();
    box.focus();
  });
  const tags = () => (allStreams() && !(props.tags ?? []).includes('stream') ? [...(props.tags ?? []), 'stream'] : (props.tags ?? []));
  return (
    <div class="modal-back" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="modal" role="dialog" aria-modal="true" aria-label="Log context" ref={box} tabindex="-1" data-testid="context" onKeyDown={(e) => e.key === 'Escape' && props.onClose()}>
        <div class="panel-head">
          <strong>Context</strong>
          <code class="small" data-testid="context-selector">
            {sel()}
          </code>
          <span class="grow" />
          <Show when={canSpan}>
            <label class="inline small" title="Lines of every stream (stdout and stderr) of this container, not only this line's stream">
              <input type="checkbox" checked={allStreams()} onChange={(e) => toggleAll(e.currentTarget.checked)} data-testid="context-all-streams" /> all streams of this container
            </label>
          </Show>
          <button onClick={() => (setSize(size() * 2), load())} disabled={loading()}>
            More lines
          </button>
          <button class="icon close" onClick={props.onClose} aria-label="Close context">
            ✕
          </button>
        </div>
        <Show when={err()}>
          <div class="error">{err()}</div>
        </Show>
        <div class="muted small">
          {loading() ? 'Loading…' : `${rows().length - 1} lines around ${fmtTime(props.row.ms)} ${allStreams() ? 'in all streams of this container' : 'in the same stream'}, oldest first`}
        </div>
        <LogList rows={rows()} patterns={props.patterns} wrap={true} showTime={true} tags={tags()} highlightId={props.row.id} height="min(70vh, 600px)" testid="context-list" />
      </div>
    </div>
  );
}
