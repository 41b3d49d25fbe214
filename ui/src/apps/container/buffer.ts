// The container view's rows: log lines of both streams and event rows, merged in time order,
// at most MAX kept; while paused, new rows wait (bounded too) and are counted.
import { createSignal } from 'solid-js';
import { cmpTs, type LogRow } from '../../api';
import { stripAnsi } from '../../ansi';
import { describeEvent, type EventView } from './events';

export const MAX_ROWS = 5000;

export interface ViewRow {
  key: number;
  ts: string; // nanoseconds
  ms: number;
  line: string; // as stored (may carry ANSI colours)
  plain: string; // without ANSI, for search
  stream: 'stdout' | 'stderr' | 'event';
  event?: EventView;
}

export function lineRow(r: LogRow): ViewRow {
  return { key: r.id, ts: r.ts, ms: r.ms, line: r.line, plain: stripAnsi(r.line), stream: r.labels.stream === 'stderr' ? 'stderr' : 'stdout' };
}

export function eventRow(r: LogRow): ViewRow | null {
  const event = describeEvent(r.line);
  if (!event) return null;
  return { key: r.id, ts: r.ts, ms: r.ms, line: r.line, plain: `${event.icon} ${event.text} ${r.line}`, stream: 'event', event };
}

const cmp = (a: ViewRow, b: ViewRow) => cmpTs(a as any, b as any);

export function createRowBuffer() {
  const [rows, setRows] = createSignal<ViewRow[]>([]);
  const [paused, setPaused] = createSignal(false);
  const [waiting, setWaiting] = createSignal(0);
  let held: ViewRow[] = [];
  let pending: ViewRow[] = [];
  let frame = 0;

  function merge(fresh: ViewRow[]) {
    const cur = rows();
    fresh.sort(cmp);
    let next: ViewRow[];
    // Mostly newer than everything shown: append; the other tail's history may land in between.
    if (!cur.length || cmp(fresh[0], cur[cur.length - 1]) >= 0) next = cur.concat(fresh);
    else next = cur.concat(fresh).sort(cmp);
    if (next.length > MAX_ROWS) next = next.slice(next.length - MAX_ROWS);
    setRows(next);
  }
  function flush() {
    frame = 0;
    if (!pending.length) return;
    const p = pending;
    pending = [];
    merge(p);
  }
  return {
    rows,
    paused,
    waiting,
    add(fresh: ViewRow[]) {
      if (!fresh.length) return;
      if (paused()) {
        held.push(...fresh);
        if (held.length > MAX_ROWS) held = held.slice(held.length - MAX_ROWS);
        setWaiting(held.length);
        return;
      }
      pending.push(...fresh);
      if (!frame) frame = requestAnimationFrame(flush);
    },
    pause() {
      setPaused(true);
    },
    resume() {
      pending.push(...held);
      held = [];
      setWaiting(0);
      setPaused(false);
      flush();
    },
    dispose() {
      if (frame) cancelAnimationFrame(frame);
    },
  };
}
