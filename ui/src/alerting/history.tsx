// The history tab: alerts' state changes, kept by the ruler as JSON log lines in Bitácora's own
// store (`{app="bitacora", source="alerts", alertname="…"}`), newest first, for a range.
import { createSignal, For, onMount, Show } from 'solid-js';
import { queryRange } from '../api';
import { exploreUrl, linkClick, search } from '../router';
import { fmtTime } from '../time';
import { historyQuery, loadRules, parseTransitions, type Transition } from './api';
import { fmtAbs, fmtAgo, fmtValue, timeMs } from './format';
import { Labels, StateBadge } from './rules';

const RANGES: [string, string, number][] = [
  ['1h', 'Last hour', 3600e3],
  ['6h', 'Last 6 hours', 6 * 3600e3],
  ['24h', 'Last 24 hours', 86400e3],
  ['7d', 'Last 7 days', 7 * 86400e3],
  ['30d', 'Last 30 days', 30 * 86400e3],
];
const LIMIT = 1000;

export default function History() {
  const p = new URLSearchParams(search());
  const [alertname, setAlertname] = createSignal(p.get('alertname') ?? '');
  const [range, setRange] = createSignal(RANGES.some((r) => r[0] === p.get('range')) ? p.get('range')! : '24h');
  const [rows, setRows] = createSignal<Transition[] | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const [loading, setLoading] = createSignal(false);
  const [names, setNames] = createSignal<string[]>([]);
  let abort: AbortController | undefined;

  const rangeMs = () => RANGES.find((r) => r[0] === range())![2];

  async function load() {
    const q = new URLSearchParams();
    if (alertname()) q.set('alertname', alertname());
    if (range() !== '24h') q.set('range', range());
    const url = `/alerting/history${q.size ? `?${q}` : ''}`;
    if (url !== location.pathname + location.search) history.replaceState(null, '', url);
    abort?.abort();
    abort = new AbortController();
    setLoading(true);
    const to = Date.now();
    try {
      const r = await queryRange(historyQuery(alertname().trim() || undefined), { start: `${to - rangeMs()}000000`, end: `${to}000000`, limit: LIMIT, direction: 'backward' }, abort.signal);
      setRows(parseTransitions(r?.data?.result ?? []));
      setError(null);
    } catch (e: any) {
      if (e?.name === 'AbortError') return;
      setError(e?.message ?? String(e));
    } finally {
      setLoading(false);
    }
  }

  onMount(() => {
    void load();
    loadRules()
      .then((g) => setNames([...new Set(g.flatMap((x) => x.rules.filter((r) => r.type === 'alerting').map((r) => r.name)))].sort()))
      .catch(() => {});
  });

  const explore = () => exploreUrl(historyQuery(alertname().trim() || undefined), `now-${range()}`, 'now');

  return (
    <div class="al-history">
      <form class="toolbar" onSubmit={(e) => (e.preventDefault(), void load())}>
        <label class="inline">
          Alert
          <input value={alertname()} onInput={(e) => setAlertname(e.currentTarget.value)} onChange={() => void load()} list="al-alertnames" placeholder="all alerts" aria-label="Alert name" data-testid="history-alertname" />
        </label>
        <datalist id="al-alertnames">
          <For each={names()}>{(n) => <option value={n} />}</For>
        </datalist>
        <select value={range()} onChange={(e) => (setRange(e.currentTarget.value), void load())} aria-label="Range" data-testid="history-range">
          <For each={RANGES}>{([v, l]) => <option value={v}>{l}</option>}</For>
        </select>
        <button type="submit" class="primary" data-testid="history-refresh">
          {loading() ? 'Loading…' : 'Show'}
        </button>
        <span class="grow" />
        <a href={explore()} onClick={linkClick} class="small">
          Open in Explore
        </a>
      </form>
      <Show when={error()}>
        <div class="error" role="alert" data-testid="history-error">
          {error()}
        </div>
      </Show>
      <Show when={rows() === null && !error()}>
        <div class="muted pad">Loading history…</div>
      </Show>
      <Show when={rows()?.length === 0}>
        <div class="hint" data-testid="history-empty">
          No state changes {alertname() ? `of ${alertname()} ` : ''}in this range. Each time an alert becomes pending, fires or resolves, the ruler writes a line to <code>{historyQuery(alertname() || undefined)}</code>.
        </div>
      </Show>
      <Show when={rows()?.length}>
        <section class="panel">
          <div class="panel-head">
            <strong data-testid="history-count">{rows()!.length} state changes</strong>
            <Show when={rows()!.length >= LIMIT}>
              <span class="warn small">only the newest {LIMIT}: narrow the range or pick an alert</span>
            </Show>
          </div>
          <div class="table-wrap">
            <table class="al-table" data-testid="history">
              <thead>
                <tr>
                  <th>Time</th>
                  <th>Alert</th>
                  <th>Change</th>
                  <th>Labels</th>
                  <th>Value</th>
                  <th>Active since</th>
                </tr>
              </thead>
              <tbody>
                <For each={rows()!}>
                  {(t) => (
                    <tr data-testid="transition" data-alertname={t.alertname} data-state={t.state} title={t.raw}>
                      <td class="ts" title={fmtAgo(t.ms)}>
                        {fmtTime(t.ms, false)}
                      </td>
                      <td>
                        <button class="al-link" onClick={() => (setAlertname(t.alertname), void load())} title={`Only ${t.alertname}`}>
                          {t.alertname}
                        </button>
                        <Show when={t.group}>
                          <div class="muted small">
                            {t.namespace} / {t.group}
                          </div>
                        </Show>
                      </td>
                      <td class="al-change">
                        <Show when={t.previous}>
                          <StateBadge state={t.previous!} />
                          <span class="muted">→</span>
                        </Show>
                        <StateBadge state={t.state} />
                      </td>
                      <td>
                        <Labels labels={t.labels} skip={['alertname']} />
                      </td>
                      <td class="num">{fmtValue(t.value)}</td>
                      <td class="small" title={fmtAbs(timeMs(t.activeAt))}>
                        {timeMs(t.activeAt) ? fmtTime(timeMs(t.activeAt)!, false) : '—'}
                      </td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
          </div>
        </section>
      </Show>
    </div>
  );
}
