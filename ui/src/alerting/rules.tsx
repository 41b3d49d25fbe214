// The rules tab: every rule group by namespace, each rule's state, value, last evaluation and
// error, its active alerts (each can be silenced), a state filter, and the ready-made rules.
import { createMemo, createSignal, For, onCleanup, onMount, Show } from 'solid-js';
import { createStore, reconcile } from 'solid-js/store';
import { linkClick, navigate, search } from '../router';
import { deleteGroup, deleteRule, loadRules, type PromAlert, type PromGroup, type PromRule } from './api';
import { fmtAbs, fmtAgo, fmtEvalTime, fmtValue, promDuration, STATE_ORDER, timeMs } from './format';
import { Templates } from './templates';

const REFRESH_MS = 5000;
const FILTERS = ['all', 'firing', 'pending', 'inactive', 'error'] as const;
type Filter = (typeof FILTERS)[number];

export const editUrl = (ns: string, group: string, rule: string) => `/alerting/edit/${[ns, group, rule].map(encodeURIComponent).join('/')}`;

export const silenceUrl = (labels: Record<string, string>) => `/alerting/silences?${new URLSearchParams({ labels: JSON.stringify(labels) })}`;

const ruleState = (r: PromRule) => (r.type === 'recording' ? 'recording' : (r.state ?? 'inactive'));

function matches(r: PromRule, f: Filter, text: string) {
  if (f === 'error' && r.health !== 'err') return false;
  if (f !== 'all' && f !== 'error' && ruleState(r) !== f) return false;
  if (!text) return true;
  const t = text.toLowerCase();
  return r.name.toLowerCase().includes(t) || r.query.toLowerCase().includes(t) || Object.entries(r.labels ?? {}).some(([k, v]) => `${k}=${v}`.toLowerCase().includes(t));
}

export function Labels(props: { labels: Record<string, string> | undefined; skip?: string[] }) {
  const entries = () => Object.entries(props.labels ?? {}).filter(([k]) => !props.skip?.includes(k));
  return (
    <span class="al-labels">
      <For each={entries()}>
        {([k, v]) => (
          <span class="al-label" title={`${k}="${v}"`}>
            <b>{k}</b>={v}
          </span>
        )}
      </For>
    </span>
  );
}

export function StateBadge(props: { state: string }) {
  return (
    <span class={`al-state al-${props.state}`} data-testid="rule-state" data-state={props.state}>
      {props.state}
    </span>
  );
}

export default function Rules() {
  // A store reconciled on each refresh: the same group and rule keep their DOM (focus, open
  // confirmations) across refreshes.
  const [store, setStore] = createStore<{ groups: KeyedGroup[] | null }>({ groups: null });
  const groups = () => store.groups;
  const [confirm, setConfirm] = createSignal<string | null>(null);
  const [expanded, setExpanded] = createSignal<Record<string, boolean>>({});
  const ui: UiState = { confirm, setConfirm, expanded: (k) => !!expanded()[k], toggle: (k) => setExpanded({ ...expanded(), [k]: !expanded()[k] }) };
  const [error, setError] = createSignal<string | null>(null);
  const [notice, setNotice] = createSignal<string | null>(null);
  const [now, setNow] = createSignal(Date.now());
  // Alerts link here as /alerting?namespace=…&group=…&rule=… (their generatorURL): show that rule.
  const [text, setText] = createSignal(new URLSearchParams(search()).get('rule') ?? '');
  const [showTemplates, setShowTemplates] = createSignal(false);
  const filter = (): Filter => {
    const f = new URLSearchParams(search()).get('state') as Filter;
    return FILTERS.includes(f) ? f : 'all';
  };
  let abort: AbortController | undefined;

  async function refresh() {
    abort?.abort();
    abort = new AbortController();
    try {
      const g = await loadRules(abort.signal);
      const keyed = g.map((x) => ({ ...x, key: `${x.file}\u0000${x.name}`, rules: x.rules.map((r, i) => ({ ...r, key: `${i}\u0000${r.name}` })) }));
      setStore('groups', reconcile(keyed, { key: 'key', merge: true }));
      setError(null);
    } catch (e: any) {
      if (e?.name === 'AbortError') return;
      setError(e?.message ?? String(e));
    }
    setNow(Date.now());
  }
  onMount(() => {
    void refresh();
    const t = setInterval(() => void refresh(), REFRESH_MS);
    const tick = setInterval(() => setNow(Date.now()), 1000);
    onCleanup(() => (clearInterval(t), clearInterval(tick), abort?.abort()));
  });

  const counts = createMemo(() => {
    const c: Record<string, number> = { all: 0, firing: 0, pending: 0, inactive: 0, error: 0 };
    for (const g of groups() ?? [])
      for (const r of g.rules) {
        c.all++;
        if (r.type === 'alerting') c[ruleState(r)] = (c[ruleState(r)] ?? 0) + 1;
        if (r.health === 'err') c.error++;
      }
    return c;
  });

  const visibleRules = (g: PromGroup) => g.rules.filter((r) => matches(r, filter(), text())).sort((a, b) => (STATE_ORDER[ruleState(a)] ?? 3) - (STATE_ORDER[ruleState(b)] ?? 3));
  const visible = (g: PromGroup) => (filter() === 'all' && !text()) || visibleRules(g).length > 0;
  /** Namespaces in name order (strings, so their sections stay put across refreshes). */
  const shown = createMemo(() => [...new Set((groups() ?? []).filter(visible).map((g) => g.file))].sort((a, b) => a.localeCompare(b)), undefined, { equals: (a, b) => a.length === b.length && a.every((x, i) => x === b[i]) });

  const setFilter = (f: Filter) => navigate(f === 'all' ? '/alerting' : `/alerting?state=${f}`);

  const act = async (what: () => Promise<unknown>, done: string) => {
    setNotice(null);
    try {
      await what();
      setNotice(done);
      setError(null);
    } catch (e: any) {
      setError(e?.message ?? String(e));
    }
    await refresh();
  };

  return (
    <div class="al-rules">
      <div class="toolbar">
        <div class="chips" role="group" aria-label="Filter by state">
          <For each={FILTERS}>
            {(f) => (
              <button class={`chip al-f-${f}`} classList={{ on: filter() === f }} aria-pressed={filter() === f} onClick={() => setFilter(f)} data-testid={`filter-${f}`}>
                {f} <span class="al-count">{counts()[f] ?? 0}</span>
              </button>
            )}
          </For>
        </div>
        <input type="search" placeholder="Search rules, queries, labels" value={text()} onInput={(e) => setText(e.currentTarget.value)} aria-label="Search rules" class="al-search" />
        <span class="grow" />
        <button onClick={() => setShowTemplates(!showTemplates())} aria-expanded={showTemplates()} data-testid="templates-toggle">
          Ready-made rules
        </button>
        <a class="button primary" href="/alerting/new" onClick={linkClick} data-testid="new-rule">
          New rule
        </a>
      </div>
      <Show when={showTemplates()}>
        <Templates groups={groups() ?? []} onClose={() => setShowTemplates(false)} onInstalled={refresh} />
      </Show>
      <Show when={notice()}>
        <div class="al-notice" role="status" data-testid="notice">
          {notice()}
        </div>
      </Show>
      <Show when={error()}>
        <div class="error" role="alert" data-testid="rules-error">
          {error()}
        </div>
      </Show>
      <Show when={groups() === null && !error()}>
        <div class="muted pad">Loading rules…</div>
      </Show>
      <Show when={groups() !== null && groups()!.length === 0}>
        <div class="hint" data-testid="no-rules">
          <p>No alerting or recording rules yet.</p>
          <p>
            Create one with <b>New rule</b>, from a query in Explore (<b>Alert on this query</b>), install the <b>Ready-made rules</b> for Dokku hosts, or post rule files to the ruler API
            (<code>POST /loki/api/v1/rules/&lt;namespace&gt;</code>).
          </p>
        </div>
      </Show>
      <Show when={groups()?.length && !shown().length}>
        <div class="hint">No rule matches this filter.</div>
      </Show>
      <For each={shown()}>
        {(ns) => (
          <section class="al-ns" aria-label={`Namespace ${ns}`} data-testid="namespace" data-namespace={ns}>
            <h2>
              <span class="muted small">namespace</span> {ns}
            </h2>
            <For each={(groups() ?? []).filter((g) => g.file === ns && visible(g))}>{(g) => <GroupPanel ns={ns} group={g} rules={visibleRules(g)} now={now()} act={act} ui={ui} />}</For>
          </section>
        )}
      </For>
    </div>
  );
}

interface UiState {
  confirm: () => string | null;
  setConfirm: (k: string | null) => void;
  expanded: (k: string) => boolean;
  toggle: (k: string) => void;
}

type KeyedGroup = PromGroup & { key: string; rules: (PromRule & { key: string })[] };

function GroupPanel(props: { ns: string; group: PromGroup; rules: PromRule[]; now: number; act: (what: () => Promise<unknown>, done: string) => Promise<void>; ui: UiState }) {
  const g = () => props.group;
  const key = () => `group\u0000${props.ns}\u0000${g().name}`;
  const confirm = () => props.ui.confirm() === key();
  const setConfirm = (on: boolean) => props.ui.setConfirm(on ? key() : null);
  return (
    <section class="panel al-group" aria-label={`Group ${g().name}`} data-testid="group" data-group={g().name}>
      <div class="panel-head">
        <strong>{g().name}</strong>
        <span class="muted small">
          every {promDuration(g().interval)} ·{' '}
          <Show when={timeMs(g().lastEvaluation) !== null} fallback={<>not evaluated yet</>}>
            evaluated <span title={fmtAbs(timeMs(g().lastEvaluation))}>{fmtAgo(timeMs(g().lastEvaluation), props.now)}</span> in {fmtEvalTime(g().evaluationTime)}
          </Show>
        </span>
        <span class="grow" />
        <Show
          when={confirm()}
          fallback={
            <button class="al-quiet" onClick={() => setConfirm(true)} data-testid="delete-group">
              Delete group
            </button>
          }
        >
          <span class="small">Delete the group and its {g().rules.length} rules?</span>
          <button class="danger" onClick={() => props.act(() => deleteGroup(props.ns, g().name), `Deleted the group ${g().name}.`)} data-testid="confirm-delete-group">
            Delete
          </button>
          <button onClick={() => setConfirm(false)}>Cancel</button>
        </Show>
      </div>
      <div class="al-rule-list">
        <For each={props.rules}>{(r) => <RuleCard ns={props.ns} group={g().name} rule={r} now={props.now} act={props.act} ui={props.ui} />}</For>
      </div>
    </section>
  );
}

function RuleCard(props: { ns: string; group: string; rule: PromRule; now: number; act: (what: () => Promise<unknown>, done: string) => Promise<void>; ui: UiState }) {
  const r = () => props.rule;
  const key = () => `rule\u0000${props.ns}\u0000${props.group}\u0000${r().name}`;
  const confirm = () => props.ui.confirm() === key();
  const setConfirm = (on: boolean) => props.ui.setConfirm(on ? key() : null);
  const open = () => props.ui.expanded(key());
  const setOpen = (_: boolean) => props.ui.toggle(key());
  const st = () => ruleState(r());
  const value = () => {
    const a = r().alerts ?? [];
    if (!a.length) return '—';
    const vals = a.map((x) => Number(x.value)).filter((n) => Number.isFinite(n));
    if (!vals.length) return fmtValue(a[0].value);
    return a.length === 1 ? fmtValue(vals[0]) : `${fmtValue(Math.min(...vals))} … ${fmtValue(Math.max(...vals))}`;
  };
  return (
    <article class={`al-rule al-rule-${st()}`} classList={{ 'al-err': r().health === 'err' }} data-testid="rule" data-rule={r().name} data-state={st()} data-health={r().health}>
      <div class="al-rule-head">
        <StateBadge state={st()} />
        <strong class="al-rule-name">{r().name}</strong>
        <span class="al-type small">{r().type}</span>
        <Labels labels={r().labels} />
        <span class="grow" />
        <span class="al-facts small">
          <span title="The value of the alerts: the query's result when last evaluated">
            value <b data-testid="rule-value">{value()}</b>
          </span>
          <span title={fmtAbs(timeMs(r().lastEvaluation))}>
            evaluated <b data-testid="rule-last-eval">{timeMs(r().lastEvaluation) === null ? 'not yet' : fmtAgo(timeMs(r().lastEvaluation), props.now)}</b>
          </span>
          <Show when={timeMs(r().lastEvaluation) !== null}>
            <span>
              took <b>{fmtEvalTime(r().evaluationTime)}</b>
            </span>
          </Show>
          <span class={`al-health al-health-${r().health}`} data-testid="rule-health">
            {r().health}
          </span>
        </span>
      </div>
      <Show when={r().health === 'err' || r().lastError}>
        <div class="al-rule-error" role="alert" data-testid="rule-error">
          {r().lastError || 'The last evaluation failed.'}
        </div>
      </Show>
      <div class="al-rule-body">
        <code class="al-expr" classList={{ open: open() }} onClick={() => setOpen(!open())} title="Click to show it all">
          {r().query}
        </code>
        <Show when={r().type === 'alerting'}>
          <span class="muted small">
            for {promDuration(r().duration)}
            <Show when={r().keepFiringFor}> · keep firing for {promDuration(r().keepFiringFor)}</Show>
          </span>
        </Show>
        <span class="grow" />
        <a class="button al-quiet" href={editUrl(props.ns, props.group, r().name)} onClick={linkClick} data-testid="edit-rule">
          Edit
        </a>
        <Show
          when={confirm()}
          fallback={
            <button class="al-quiet" onClick={() => setConfirm(true)} data-testid="delete-rule">
              Delete
            </button>
          }
        >
          <button class="danger" onClick={() => props.act(() => deleteRule(props.ns, props.group, r().name), `Deleted the rule ${r().name}.`)} data-testid="confirm-delete-rule">
            Delete {r().name}
          </button>
          <button onClick={() => setConfirm(false)}>Cancel</button>
        </Show>
      </div>
      <Show when={r().annotations?.summary}>
        <div class="small al-summary">{r().annotations!.summary}</div>
      </Show>
      <Show when={(r().alerts ?? []).length}>
        <AlertTable alerts={r().alerts!} now={props.now} />
      </Show>
    </article>
  );
}

function AlertTable(props: { alerts: PromAlert[]; now: number }) {
  const sorted = () => [...props.alerts].sort((a, b) => (STATE_ORDER[a.state] ?? 3) - (STATE_ORDER[b.state] ?? 3));
  return (
    <div class="table-wrap">
      <table class="al-table al-alerts" data-testid="alerts">
        <thead>
          <tr>
            <th>State</th>
            <th>Labels</th>
            <th>Value</th>
            <th>Active since</th>
            <th />
          </tr>
        </thead>
        <tbody>
          <For each={sorted()}>
            {(a) => (
              <tr data-testid="alert" data-state={a.state}>
                <td>
                  <StateBadge state={a.state} />
                </td>
                <td>
                  <Labels labels={a.labels} skip={['alertname']} />
                  <Show when={a.annotations?.summary}>
                    <div class="small muted">{a.annotations.summary}</div>
                  </Show>
                </td>
                <td class="num" data-testid="alert-value">
                  {fmtValue(a.value)}
                </td>
                <td title={fmtAbs(timeMs(a.activeAt))} data-testid="alert-active-at">
                  {fmtAgo(timeMs(a.activeAt), props.now)}
                </td>
                <td class="al-actions">
                  <a class="button al-quiet" href={silenceUrl(a.labels)} onClick={linkClick} data-testid="silence-alert">
                    Silence
                  </a>
                </td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </div>
  );
}
