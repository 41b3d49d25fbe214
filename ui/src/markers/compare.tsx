// "Before/after this deploy": the error rate of a deployed app (lines with detected_level error,
// critical or fatal, per minute, and their share of all its lines) in the 15 minutes before the
// deploy and the 15 minutes after it (or up to now), each window linking to Explore.
import { createResource, For, onCleanup, onMount, Show } from 'solid-js';
import { apiGet } from '../api';
import { navigate } from '../router';
import { fmtTime } from '../time';
import { appSelector, describeMarker, type Marker } from './events';

const WINDOW_MS = 15 * 60e3;
const ERRORS = ' | detected_level=~"error|critical|fatal"';

export interface WindowStats {
  from: number;
  to: number;
  lines: number;
  errors: number;
}

/** Lines matching `query` in exactly [from, to) (ms): an instant count whose window ends 1 ns before `to`. */
async function countIn(query: string, from: number, to: number): Promise<number> {
  const res = await apiGet('/loki/api/v1/query', { query: `sum(count_over_time(${query} [${Math.max(1, Math.round(to - from))}ms]))`, time: `${BigInt(Math.round(to)) * 1_000_000n - 1n}` }, { headers: { 'X-Query-Tags': 'Source=deploycompare' } });
  const r = res.data?.result ?? [];
  return r.length ? Number(r[0].value[1]) : 0;
}

async function windowStats(sel: string, from: number, to: number): Promise<WindowStats> {
  const [lines, errors] = await Promise.all([countIn(sel, from, to), countIn(sel + ERRORS, from, to)]);
  return { from, to, lines, errors };
}

/** The two windows around a deploy at `at` (ms), the second cut at `now`. */
export function compareWindows(at: number, now = Date.now()) {
  return { before: { from: at - WINDOW_MS, to: at }, after: { from: at, to: Math.max(at + 1000, Math.min(at + WINDOW_MS, now)) } };
}

const perMin = (w: WindowStats) => w.errors / ((w.to - w.from) / 60e3);
const share = (w: WindowStats) => (w.lines ? w.errors / w.lines : null);

export function DeployCompare(props: { marker: Marker; onClose: () => void }) {
  const sel = appSelector(props.marker);
  const [data] = createResource(async () => {
    const w = compareWindows(props.marker.ms);
    const [before, after] = await Promise.all([windowStats(sel, w.before.from, w.before.to), windowStats(sel, w.after.from, w.after.to)]);
    return { before, after };
  });
  let box!: HTMLDivElement;
  onMount(() => {
    box.focus();
    const key = (e: KeyboardEvent) => e.key === 'Escape' && props.onClose();
    document.addEventListener('keydown', key);
    onCleanup(() => document.removeEventListener('keydown', key));
  });
  const link = (w: WindowStats) => `/explore?${new URLSearchParams({ query: sel + ERRORS, from: String(Math.round(w.from)), to: String(Math.round(w.to)) })}`;
  // Client-side, and Explore (which may be the page already) reads the new URL as on Back.
  const openLink = (e: MouseEvent, url: string) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    props.onClose();
    navigate(url);
    window.dispatchEvent(new PopStateEvent('popstate'));
  };
  const minutes = (w: WindowStats) => Math.round((w.to - w.from) / 60e3);
  const trend = (a: number | null, b: number | null) => (a === null || b === null || a === b ? '' : b > a ? 'worse' : 'better');
  return (
    <div class="compare" role="dialog" aria-label="Errors before and after this deploy" tabindex="-1" ref={box} data-testid="compare">
      <div class="compare-head">
        <strong>Before / after this deploy</strong>
        <span class="grow" />
        <button class="icon" onClick={props.onClose} aria-label="Close comparison" data-testid="compare-close">
          ✕
        </button>
      </div>
      <div class="muted small">
        {fmtTime(props.marker.ms, false)} · {describeMarker(props.marker).join(' · ')}
      </div>
      <div class="muted small">
        <code>{sel}</code>
      </div>
      <Show when={data.error}>
        <div class="error">{String(data.error?.message ?? data.error)}</div>
      </Show>
      <Show when={data()} fallback={<Show when={!data.error}><div class="muted">Counting…</div></Show>}>
        {(d) => (
          <table>
            <thead>
              <tr>
                <th>Window</th>
                <th>Errors/min</th>
                <th>Error share</th>
                <th>Errors</th>
                <th>Lines</th>
                <th />
              </tr>
            </thead>
            <tbody>
              <For each={[['before', d().before], ['after', d().after]] as const}>
                {([name, w]) => {
                  const other = name === 'after' ? d().before : null;
                  return (
                    <tr data-testid={`compare-${name}`}>
                      <td>
                        {name === 'before' ? `${minutes(w)} min before` : `${minutes(w)} min after${w.to - w.from < WINDOW_MS ? ' (so far)' : ''}`}
                      </td>
                      <td data-testid={`compare-${name}-rate`} class={other ? trend(perMin(other), perMin(w)) : ''}>
                        {perMin(w).toFixed(2)}
                      </td>
                      <td data-testid={`compare-${name}-share`} class={other ? trend(share(other), share(w)) : ''}>
                        {share(w) === null ? '—' : `${(share(w)! * 100).toFixed(1)}%`}
                      </td>
                      <td data-testid={`compare-${name}-errors`}>{w.errors.toLocaleString('en')}</td>
                      <td data-testid={`compare-${name}-lines`}>{w.lines.toLocaleString('en')}</td>
                      <td>
                        <a href={link(w)} onClick={(e) => openLink(e, link(w))} data-testid={`compare-${name}-link`}>
                          Explore
                        </a>
                      </td>
                    </tr>
                  );
                }}
              </For>
            </tbody>
          </table>
        )}
      </Show>
    </div>
  );
}
