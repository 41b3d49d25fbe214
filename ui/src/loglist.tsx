// The virtualised log list: rows of variable height (wrapped lines, opened details), only the
// visible ones in the DOM. Rows open to their labels, metadata and fields with filter buttons.
import { createEffect, createMemo, createSignal, For, on, onCleanup, onMount, Show } from 'solid-js';
import type { LogRow } from './api';
import { renderLine, stripAnsi } from './ansi';
import { fmtTime } from './time';
import { parseLineFields } from './querymod';
import { tagValue } from './labeltags';

export type FilterKind = 'stream' | 'meta' | 'parsed';
export interface FilterAction {
  kind: FilterKind;
  name: string;
  value: string;
  op: '=' | '!=';
  parser?: 'json' | 'logfmt';
}

export interface LogListProps {
  rows: LogRow[];
  patterns: RegExp[];
  wrap: boolean;
  showTime: boolean;
  onFilter?: (f: FilterAction) => void;
  onContext?: (r: LogRow) => void;
  highlightId?: number;
  height?: string;
  testid?: string;
  /** Keep the view at the bottom when new rows arrive and it was there (live tail, oldest first). */
  stickToBottom?: boolean;
  /** Label names (stream labels or structured metadata) shown as tags before each line. */
  tags?: string[];
}

const isStderr = (r: LogRow) => (r.labels.stream ?? r.meta.stream) === 'stderr';

const EST = 22;

export async function copyText(text: string) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    return ok;
  }
}

export function LogList(props: LogListProps) {
  let scroller!: HTMLDivElement;
  const [scrollTop, setScrollTop] = createSignal(0);
  const [viewH, setViewH] = createSignal(600);
  const [version, setVersion] = createSignal(0);
  const [open, setOpen] = createSignal<Set<number>>(new Set());
  let heights = new Float64Array(0);
  let offsets = new Float64Array(1);
  let index = new Map<LogRow, number>();
  let measured = new WeakMap<LogRow, number>();
  let pending = 0;

  const recompute = () => {
    const n = heights.length;
    offsets = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + heights[i];
    setVersion((v) => v + 1);
  };
  const reset = () => {
    const rows = props.rows;
    const atBottom = scroller && scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 30;
    heights = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) heights[i] = measured.get(rows[i]) ?? EST;
    index = new Map(rows.map((r, i) => [r, i]));
    recompute();
    if (props.stickToBottom && atBottom && scroller) {
      queueMicrotask(() => {
        scroller.scrollTop = scroller.scrollHeight;
        setScrollTop(scroller.scrollTop);
      });
    }
  };
  createEffect(on(() => props.rows, reset));
  createEffect(
    on(
      () => props.wrap,
      () => {
        measured = new WeakMap();
        reset();
      },
      { defer: true },
    ),
  );

  const ro = new ResizeObserver((entries) => {
    let changed = false;
    for (const e of entries) {
      const el = e.target as HTMLElement & { __row?: LogRow };
      const i = el.__row ? index.get(el.__row) : undefined;
      if (i === undefined) continue;
      const h = el.offsetHeight;
      if (h && Math.abs(heights[i] - h) > 0.5) {
        heights[i] = h;
        measured.set(el.__row!, h);
        changed = true;
      }
    }
    if (changed && !pending) pending = requestAnimationFrame(() => ((pending = 0), recompute()));
  });
  onCleanup(() => {
    ro.disconnect();
    if (pending) cancelAnimationFrame(pending);
  });

  onMount(() => {
    const sizeObs = new ResizeObserver(() => setViewH(scroller.clientHeight));
    sizeObs.observe(scroller);
    onCleanup(() => sizeObs.disconnect());
  });

  const windowRange = createMemo(() => {
    version();
    const n = props.rows.length;
    const top = scrollTop();
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offsets[mid + 1] <= top) lo = mid + 1;
      else hi = mid;
    }
    const start = Math.max(0, lo - 10);
    let end = lo;
    const bottom = top + viewH();
    while (end < n && offsets[end] < bottom) end++;
    return [start, Math.min(n, end + 10)] as const;
  });
  const visible = createMemo(() => {
    const [s, e] = windowRange();
    return props.rows.slice(s, e);
  });

  const toggle = (r: LogRow) => {
    const s = new Set(open());
    s.has(r.id) ? s.delete(r.id) : s.add(r.id);
    setOpen(s);
  };

  const onKey = (e: KeyboardEvent, r: LogRow) => {
    if (e.target !== e.currentTarget) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      toggle(r);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const i = index.get(r)!;
      const j = i + (e.key === 'ArrowDown' ? 1 : -1);
      if (j < 0 || j >= props.rows.length) return;
      const target = props.rows[j];
      const find = () => scroller.querySelector<HTMLElement>(`[data-row-id="${target.id}"]`);
      let el = find();
      if (!el) {
        scroller.scrollTop = offsets[j] - viewH() / 2;
        setScrollTop(scroller.scrollTop);
        queueMicrotask(() => find()?.focus());
      } else el.focus();
    }
  };

  return (
    <div class="loglist" ref={scroller} style={{ height: props.height }} onScroll={() => setScrollTop(scroller.scrollTop)} role="table" aria-label="Log lines" data-testid={props.testid ?? 'log-list'} classList={{ wrap: props.wrap }}>
      <div style={{ height: `${offsets[props.rows.length] ?? 0}px`, position: 'relative' }} data-v={version()}>
        <div style={{ transform: `translateY(${offsets[windowRange()[0]] ?? 0}px)` }}>
          <For each={visible()}>
            {(r) => (
              <div
                class={`row lvl-${r.level}`}
                classList={{ open: open().has(r.id), hl: props.highlightId === r.id, stderr: isStderr(r) }}
                ref={(el) => {
                  (el as any).__row = r;
                  ro.observe(el);
                  onCleanup(() => ro.unobserve(el));
                }}
                data-row-id={r.id}
                data-testid="log-row"
                data-level={r.level}
                data-stream={r.labels.stream ?? r.meta.stream}
                tabindex="0"
                role="row"
                aria-expanded={open().has(r.id)}
                onKeyDown={(e) => onKey(e, r)}
              >
                <div class="row-main" onClick={() => (window.getSelection()?.toString() ? null : toggle(r))}>
                  <span class="lvl">{r.level}</span>
                  <Show when={props.showTime}>
                    <time class="ts">{fmtTime(r.ms)}</time>
                  </Show>
                  <Show when={isStderr(r) && !(props.tags ?? []).includes('stream')}>
                    <span class="stream-mark" data-testid="stderr-mark" title="written to stderr">
                      stderr
                    </span>
                  </Show>
                  <For each={props.tags ?? []}>
                    {(name) => (
                      <Show when={tagValue(r, name)}>
                        {(v) => (
                          <span class="ltag" classList={{ stderr: name === 'stream' && v() === 'stderr' }} data-testid="log-tag" data-name={name} title={`${name}=${v()}`}>
                            {v()}
                          </span>
                        )}
                      </Show>
                    )}
                  </For>
                  <span class="line" data-testid="log-line" innerHTML={renderLine(r.line, props.patterns)} />
                </div>
                <Show when={open().has(r.id)}>
                  <Details row={r} onFilter={props.onFilter} onContext={props.onContext} />
                </Show>
              </div>
            )}
          </For>
        </div>
      </div>
      <Show when={props.rows.length === 0}>
        <div class="empty">No log lines.</div>
      </Show>
    </div>
  );
}

function Details(props: { row: LogRow; onFilter?: (f: FilterAction) => void; onContext?: (r: LogRow) => void }) {
  const r = props.row;
  const client = Object.keys(r.parsed).length ? null : parseLineFields(stripAnsi(r.line));
  const [copied, setCopied] = createSignal(false);
  const section = (title: string, kind: FilterKind, fields: Record<string, string>, parser?: 'json' | 'logfmt') => (
    <Show when={Object.keys(fields).length}>
      <h4>{title}</h4>
      <table class="fields">
        <tbody>
          <For each={Object.entries(fields)}>
            {([k, v]) => (
              <tr data-testid={`field-${kind}-${k}`}>
                <td class="actions">
                  <Show when={props.onFilter}>
                    <button class="icon" title={`Filter for ${k}="${v}"`} aria-label={`Filter for ${k}="${v}"`} data-testid="filter-for" onClick={() => props.onFilter!({ kind, name: k, value: v, op: '=', parser })}>
                      ⊕
                    </button>
                    <button class="icon" title={`Filter out ${k}="${v}"`} aria-label={`Filter out ${k}="${v}"`} data-testid="filter-out" onClick={() => props.onFilter!({ kind, name: k, value: v, op: '!=', parser })}>
                      ⊖
                    </button>
                  </Show>
                </td>
                <th>{k}</th>
                <td class="val">{v}</td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </Show>
  );
  return (
    <div class="details" onKeyDown={(e) => e.stopPropagation()}>
      <div class="detail-actions">
        <Show when={props.onContext}>
          <button data-testid="show-context" onClick={() => props.onContext!(r)}>
            Show context
          </button>
        </Show>
        <button data-testid="copy-line" onClick={async () => setCopied(await copyText(stripAnsi(r.line)))}>
          {copied() ? 'Copied' : 'Copy line'}
        </button>
        <span class="muted">
          {fmtTime(r.ms)} · {r.ts} ns
        </span>
      </div>
      {section('Labels', 'stream', r.labels)}
      {section('Structured metadata', 'meta', r.meta)}
      {section('Parsed fields', 'parsed', r.parsed)}
      <Show when={client}>{(c) => section(`Fields (${c().parser}, not yet in the query)`, 'parsed', c().fields, c().parser)}</Show>
    </div>
  );
}
