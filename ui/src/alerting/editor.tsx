// Creating and editing a rule (/alerting/new, /alerting/edit/<namespace>/<group>/<rule>): the
// query in the LogQL editor, a condition and threshold, a chart of the query over the last hours
// with the threshold drawn on it, and the group it lives in. Saving reads the group from the ruler,
// puts the rule in it and posts the whole group back; the server's refusal is shown as it said it.
import { batch, createEffect, createMemo, createSignal, For, onCleanup, onMount, Show } from 'solid-js';
import { stringify } from 'yaml';
import { ApiError, queryRange, seriesName, type MatrixSeries } from '../api';
import { drawTimeseries } from '../charts';
import { createEditor, type QueryEditor } from '../editor';
import { linkClick, navigate, search } from '../router';
import { theme } from '../theme';
import { fmtDuration, niceStep } from '../time';
import { deleteRule, getGroup, loadRules, postGroup, ruleName, type GroupDef, type PromGroup, type RuleDef } from './api';
import { joinExpr, OPS, splitExpr, validThreshold, type Op } from './expr';
import { parsePromDuration } from './format';

type KV = [string, string][];

const RANGES: [number, string][] = [
  [1, 'Last hour'],
  [3, 'Last 3 hours'],
  [6, 'Last 6 hours'],
  [12, 'Last 12 hours'],
  [24, 'Last 24 hours'],
];
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const KNOWN = new Set(['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);

interface Target {
  ns: string;
  group: string;
  rule: string;
}

interface Chart {
  times: number[];
  series: MatrixSeries[];
  step: number;
  range: { from: number; to: number };
}

function KVEditor(props: { rows: KV; set: (r: KV) => void; what: string; id: string }) {
  const upd = (i: number, k: 0 | 1, v: string) => props.set(props.rows.map((r, j) => (j === i ? ((k === 0 ? [v, r[1]] : [r[0], v]) as [string, string]) : r)));
  return (
    <div class="al-kv" data-testid={props.id}>
      <For each={props.rows}>
        {(r, i) => (
          <div class="al-kv-row">
            <input value={r[0]} placeholder="name" aria-label={`${props.what} name`} onInput={(e) => upd(i(), 0, e.currentTarget.value)} data-testid={`${props.id}-name`} />
            <span class="muted">=</span>
            <input value={r[1]} placeholder="value" aria-label={`${props.what} value`} onInput={(e) => upd(i(), 1, e.currentTarget.value)} class="grow" data-testid={`${props.id}-value`} />
            <button type="button" class="icon" onClick={() => props.set(props.rows.filter((_, j) => j !== i()))} aria-label={`Remove ${props.what} ${r[0]}`}>
              ✕
            </button>
          </div>
        )}
      </For>
      <button type="button" class="al-quiet" onClick={() => props.set([...props.rows, ['', '']])} data-testid={`${props.id}-add`}>
        + Add {props.what}
      </button>
    </div>
  );
}

export default function RuleEditor(props: { target?: Target }) {
  const params = new URLSearchParams(search());
  const init = splitExpr(params.get('expr') ?? '');
  const [loading, setLoading] = createSignal(!!props.target);
  const [loadError, setLoadError] = createSignal<string | null>(null);
  const [ns, setNs] = createSignal(params.get('namespace') ?? 'default');
  const [group, setGroup] = createSignal(params.get('group') ?? 'alerts');
  const [interval, setInterval_] = createSignal('');
  const [kind, setKind] = createSignal<'alerting' | 'recording'>('alerting');
  const [name, setName] = createSignal('');
  const [query, setQuery] = createSignal(init.query);
  const [op, setOp] = createSignal<Op | ''>(init.op || '>');
  const [threshold, setThreshold] = createSignal(init.threshold || (init.query ? '0' : ''));
  const [forDur, setFor] = createSignal('5m');
  const [keepFiring, setKeepFiring] = createSignal('');
  const [labels, setLabels] = createSignal<KV>([]);
  const [summary, setSummary] = createSignal('');
  const [description, setDescription] = createSignal('');
  const [annotations, setAnnotations] = createSignal<KV>([]);
  const [extra, setExtra] = createSignal<Record<string, unknown>>({});
  const [hours, setHours] = createSignal(3);
  const [chart, setChart] = createSignal<Chart | null>(null);
  const [chartError, setChartError] = createSignal<string | null>(null);
  const [charting, setCharting] = createSignal(false);
  const [saving, setSaving] = createSignal(false);
  const [saveError, setSaveError] = createSignal<string | null>(null);
  const [confirmDelete, setConfirmDelete] = createSignal(false);
  const [known, setKnown] = createSignal<PromGroup[]>([]);
  let editor: QueryEditor | undefined;
  let editorEl!: HTMLDivElement;
  let chartEl!: HTMLDivElement;
  let abort: AbortController | undefined;

  const apiRange = () => {
    const to = Date.now();
    return { start: `${to - hours() * 3600e3}000000`, end: `${to}000000` };
  };

  const thresholdNum = () => (kind() === 'alerting' && op() && validThreshold(threshold()) ? Number(threshold()) : null);
  const expr = () => (kind() === 'alerting' ? joinExpr({ query: query(), op: op(), threshold: threshold() }) : query().trim());

  function fill(r: RuleDef, g: GroupDef) {
    const isRec = r.record !== undefined && r.alert === undefined;
    const c = isRec ? { query: String(r.expr ?? ''), op: '' as const, threshold: '' } : splitExpr(String(r.expr ?? ''));
    const ann = { ...(r.annotations ?? {}) };
    const rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (!KNOWN.has(k)) rest[k] = v;
    batch(() => {
      setKind(isRec ? 'recording' : 'alerting');
      setName(ruleName(r));
      setQuery(c.query);
      setOp(c.op);
      setThreshold(c.threshold);
      setFor(r.for ? String(r.for) : '');
      setKeepFiring(r.keep_firing_for ? String(r.keep_firing_for) : '');
      setLabels(Object.entries(r.labels ?? {}).map(([k, v]) => [k, String(v)]));
      setSummary(String(ann.summary ?? ''));
      setDescription(String(ann.description ?? ''));
      delete ann.summary;
      delete ann.description;
      setAnnotations(Object.entries(ann).map(([k, v]) => [k, String(v)]));
      setInterval_(g.interval ? String(g.interval) : '');
      setExtra(rest);
    });
    editor?.set(c.query);
  }

  async function load(t: Target) {
    setNs(t.ns);
    setGroup(t.group);
    try {
      const g = await getGroup(t.ns, t.group);
      if (!g) throw new Error(`There is no group ${t.group} in namespace ${t.ns}.`);
      const r = g.rules.find((x) => ruleName(x) === t.rule);
      if (!r) throw new Error(`The group ${t.group} of namespace ${t.ns} has no rule named ${t.rule}.`);
      fill(r, g);
      setLoading(false);
      void preview();
    } catch (e: any) {
      setLoadError(e?.message ?? String(e));
      setLoading(false);
    }
  }

  async function preview() {
    const q = (editor?.get() ?? query()).trim();
    setQuery(q);
    editor?.markError();
    if (!q) {
      setChart(null);
      setChartError(null);
      return;
    }
    abort?.abort();
    abort = new AbortController();
    const to = Date.now();
    const from = to - hours() * 3600e3;
    const step = niceStep(to - from, 200);
    setCharting(true);
    try {
      const r = await queryRange(q, { start: `${from}000000`, end: `${to}000000`, step: `${step}s` }, abort.signal);
      if (r?.data?.resultType !== 'matrix') {
        setChart(null);
        setChartError('This is a log query: an alert needs a metric query, for example sum(count_over_time({app="web"} |= "error" [5m])).');
      } else {
        const series: MatrixSeries[] = r.data.result ?? [];
        const times = new Set<number>();
        for (const s of series) for (const [t] of s.values) times.add(Number(t));
        setChart({ times: [...times].sort((a, b) => a - b), series, step, range: { from, to } });
        setChartError(null);
      }
    } catch (e: any) {
      if (e?.name === 'AbortError') return;
      setChart(null);
      setChartError(e?.message ?? String(e));
      if (e instanceof ApiError && e.line !== undefined) editor?.markError(Math.max(1, e.line), e.col);
    } finally {
      setCharting(false);
    }
  }

  const aligned = createMemo(() => {
    const c = chart();
    if (!c) return [];
    const at = new Map(c.times.map((t, i) => [t, i]));
    return c.series.map((s) => {
      const vals: (number | null)[] = c.times.map(() => null);
      for (const [t, v] of s.values) vals[at.get(Number(t))!] = Number(v);
      return { name: seriesName(s.metric), values: vals };
    });
  });

  onMount(() => {
    editor = createEditor(editorEl, query(), { range: apiRange, onRun: () => void preview(), onChange: setQuery });
    if (props.target) void load(props.target);
    else if (query()) void preview();
    loadRules()
      .then(setKnown)
      .catch(() => {});
    createEffect(() => {
      const c = chart();
      theme();
      const thr = thresholdNum();
      if (!c) return;
      const h = drawTimeseries(chartEl, c.times, aligned(), c.range, () => {}, { threshold: thr, height: 240 });
      onCleanup(h.destroy);
    });
  });
  onCleanup(() => abort?.abort());

  /** The rule as the form describes it, or a message naming the field that is wrong. */
  function build(): RuleDef | string {
    const n = name().trim();
    if (!n) return 'Name: give the rule a name.';
    if (kind() === 'recording' && !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(n)) return `Name: "${n}" is not a metric name (letters, digits, _ and :).`;
    if (!ns().trim()) return 'Namespace: give the rule file a name.';
    if (!group().trim()) return 'Group: give the group a name.';
    if (!query().trim()) return 'Query: write the LogQL metric query to evaluate.';
    if (interval().trim() && parsePromDuration(interval()) === null) return `Interval: "${interval()}" is not a duration (like 30s, 1m, 1h30m).`;
    if (kind() === 'alerting') {
      if (op() && !validThreshold(threshold())) return `Threshold: "${threshold()}" is not a number.`;
      if (forDur().trim() && parsePromDuration(forDur()) === null) return `For: "${forDur()}" is not a duration (like 0s, 5m, 1h).`;
      if (keepFiring().trim() && parsePromDuration(keepFiring()) === null) return `Keep firing for: "${keepFiring()}" is not a duration.`;
    }
    for (const [k] of [...labels(), ...annotations()]) if (k && !LABEL_NAME.test(k)) return `Labels and annotations: "${k}" is not a valid name (letters, digits and _, not starting with a digit).`;
    const lab = Object.fromEntries(labels().filter(([k]) => k));
    const r: RuleDef = kind() === 'alerting' ? { alert: n, expr: expr() } : { record: n, expr: expr() };
    if (kind() === 'alerting') {
      if (forDur().trim()) r.for = forDur().trim();
      if (keepFiring().trim()) r.keep_firing_for = keepFiring().trim();
    }
    if (Object.keys(lab).length) r.labels = lab;
    if (kind() === 'alerting') {
      const ann: Record<string, string> = {};
      if (summary().trim()) ann.summary = summary().trim();
      if (description().trim()) ann.description = description().trim();
      for (const [k, v] of annotations()) if (k) ann[k] = v;
      if (Object.keys(ann).length) r.annotations = ann;
    }
    return { ...extra(), ...r };
  }

  const preview_yaml = createMemo(() => {
    const r = build();
    return typeof r === 'string' ? `# ${r}` : stringify([r], { lineWidth: 0 });
  });

  async function save() {
    setSaveError(null);
    const r = build();
    if (typeof r === 'string') return setSaveError(r);
    setSaving(true);
    const t = props.target;
    const [n, g0] = [ns().trim(), group().trim()];
    try {
      const g: GroupDef = (await getGroup(n, g0)) ?? { name: g0, rules: [] };
      if (interval().trim()) g.interval = interval().trim();
      const same = t && t.ns === n && t.group === g0;
      const idx = same ? g.rules.findIndex((x) => ruleName(x) === t!.rule) : -1;
      if (g.rules.some((x, i) => ruleName(x) === ruleName(r) && i !== idx)) throw new Error(`Name: the group ${g0} already has a rule named ${ruleName(r)}.`);
      if (idx >= 0) g.rules[idx] = r;
      else g.rules.push(r);
      await postGroup(n, g);
      // Moved to another group: take it out of the old one.
      if (t && !same) await deleteRule(t.ns, t.group, t.rule);
      navigate('/alerting');
    } catch (e: any) {
      setSaveError(e?.message ?? String(e));
      // The server's position in the expr is a position in the query (the query is its start).
      // (LogQL's errors count lines from 0 or 1 depending on the parser: both mean the first.)
      if (e instanceof ApiError && e.line !== undefined && /expr: /.test(e.message)) editor?.markError(Math.max(1, e.line), e.col);
    } finally {
      setSaving(false);
    }
  }

  async function remove() {
    const t = props.target!;
    try {
      await deleteRule(t.ns, t.group, t.rule);
      navigate('/alerting');
    } catch (e: any) {
      setSaveError(e?.message ?? String(e));
    }
  }

  const namespaces = () => [...new Set(known().map((g) => g.file))].sort();
  const groupsOf = () => [...new Set(known().filter((g) => g.file === ns()).map((g) => g.name))].sort();

  return (
    <div class="al-editor" data-testid="rule-editor">
      <div class="al-editor-head">
        <h1>{props.target ? `Edit ${props.target.rule}` : 'New rule'}</h1>
        <Show when={props.target}>
          <span class="muted small">
            namespace {props.target!.ns} · group {props.target!.group}
          </span>
        </Show>
      </div>
      <Show when={loading()}>
        <div class="muted pad">Loading the rule…</div>
      </Show>
      <Show when={loadError()}>
        <div class="error" role="alert" data-testid="load-error">
          {loadError()}{' '}
          <a href="/alerting" onClick={linkClick}>
            Back to the rules
          </a>
        </div>
      </Show>
      <form class="al-form" classList={{ hidden: loading() || !!loadError() }} onSubmit={(e) => (e.preventDefault(), void save())}>
        <section class="panel">
          <div class="al-fields">
            <label class="al-field al-wide">
              <span>Name</span>
              <input value={name()} onInput={(e) => setName(e.currentTarget.value)} placeholder={kind() === 'alerting' ? 'AppErrorRate' : 'app:errors:rate5m'} required data-testid="rule-name" />
            </label>
            <label class="al-field">
              <span>Type</span>
              <select value={kind()} onChange={(e) => setKind(e.currentTarget.value as any)} data-testid="rule-type">
                <option value="alerting">Alerting rule</option>
                <option value="recording">Recording rule</option>
              </select>
            </label>
          </div>
        </section>
        <section class="panel">
          <div class="panel-head">
            <strong>Query</strong>
            <span class="muted small">a LogQL metric query; Ctrl+Enter draws it</span>
          </div>
          <div class="editor" ref={editorEl} />
          <div class="al-condition">
            <Show when={kind() === 'alerting'}>
              <span>Fire when the value is</span>
              <select value={op()} onChange={(e) => setOp(e.currentTarget.value as Op | '')} aria-label="Condition" data-testid="rule-op">
                <For each={OPS}>{(o) => <option value={o}>{o}</option>}</For>
                <option value="">(any result)</option>
              </select>
              <Show when={op()}>
                <input class="al-num" value={threshold()} onInput={(e) => setThreshold(e.currentTarget.value)} aria-label="Threshold" inputmode="decimal" placeholder="0" data-testid="rule-threshold" />
              </Show>
            </Show>
            <span class="grow" />
            <select value={String(hours())} onChange={(e) => (setHours(Number(e.currentTarget.value)), void preview())} aria-label="Chart range" data-testid="chart-range">
              <For each={RANGES}>{([h, l]) => <option value={String(h)}>{l}</option>}</For>
            </select>
            <button type="button" onClick={() => void preview()} data-testid="preview">
              {charting() ? 'Drawing…' : 'Draw'}
            </button>
          </div>
          <div class="muted small al-expr-line">
            Expression: <code data-testid="rule-expr">{expr() || '—'}</code>
          </div>
          <Show when={chartError()}>
            <div class="error" role="alert" data-testid="chart-error">
              {chartError()}
            </div>
          </Show>
          <Show when={chart() && chart()!.series.length === 0}>
            <div class="empty">The query returned no series in this range: the rule would not fire on it.</div>
          </Show>
          <Show when={!chart() && !chartError() && !query().trim()}>
            <div class="empty">Write a query to see it over the last hours.</div>
          </Show>
          <Show when={chart()}>
            <div class="muted small">
              {chart()!.series.length} series · step {fmtDuration(chart()!.step)}
              <Show when={thresholdNum() !== null}>
                {' '}
                · <span class="al-thr-key" /> threshold {op()} {threshold()}
              </Show>
            </div>
          </Show>
          <div class="chart" ref={chartEl} data-testid="rule-chart" data-series={chart()?.series.length ?? ''} data-threshold={thresholdNum() ?? ''} />
        </section>
        <section class="panel">
          <div class="panel-head">
            <strong>Evaluation</strong>
          </div>
          <div class="al-fields">
            <label class="al-field">
              <span>Namespace</span>
              <input value={ns()} onInput={(e) => setNs(e.currentTarget.value)} list="al-namespaces" required data-testid="rule-namespace" />
            </label>
            <label class="al-field">
              <span>Group</span>
              <input value={group()} onInput={(e) => setGroup(e.currentTarget.value)} list="al-groups" required data-testid="rule-group" />
            </label>
            <label class="al-field">
              <span>Group interval</span>
              <input value={interval()} onInput={(e) => setInterval_(e.currentTarget.value)} placeholder="the ruler's default" data-testid="rule-interval" />
            </label>
            <Show when={kind() === 'alerting'}>
              <label class="al-field">
                <span>Pending for</span>
                <input value={forDur()} onInput={(e) => setFor(e.currentTarget.value)} placeholder="0s: fire at once" data-testid="rule-for" />
              </label>
              <label class="al-field">
                <span>Keep firing for</span>
                <input value={keepFiring()} onInput={(e) => setKeepFiring(e.currentTarget.value)} placeholder="0s" data-testid="rule-keep-firing" />
              </label>
            </Show>
          </div>
          <datalist id="al-namespaces">
            <For each={namespaces()}>{(n) => <option value={n} />}</For>
          </datalist>
          <datalist id="al-groups">
            <For each={groupsOf()}>{(n) => <option value={n} />}</For>
          </datalist>
        </section>
        <section class="panel">
          <div class="panel-head">
            <strong>{kind() === 'alerting' ? 'Labels and annotations' : 'Labels'}</strong>
            <span class="muted small">annotations may use templates: {'{{ $labels.app }}'}, {'{{ $value | humanize }}'}</span>
          </div>
          <Show when={kind() === 'alerting'}>
            <div class="al-fields">
              <label class="al-field al-wide">
                <span>Summary</span>
                <input value={summary()} onInput={(e) => setSummary(e.currentTarget.value)} placeholder="{{ $labels.app }} logs {{ $value | humanize }} errors a minute" data-testid="rule-summary" />
              </label>
              <label class="al-field al-wide">
                <span>Description</span>
                <textarea value={description()} onInput={(e) => setDescription(e.currentTarget.value)} rows={2} data-testid="rule-description" />
              </label>
            </div>
          </Show>
          <div class="al-kv-cols">
            <div>
              <h3>Labels</h3>
              <KVEditor rows={labels()} set={setLabels} what="label" id="rule-labels" />
            </div>
            <Show when={kind() === 'alerting'}>
              <div>
                <h3>Other annotations</h3>
                <KVEditor rows={annotations()} set={setAnnotations} what="annotation" id="rule-annotations" />
              </div>
            </Show>
          </div>
          <details class="al-yaml-preview">
            <summary class="small muted">The rule as YAML</summary>
            <pre class="al-yaml" data-testid="rule-yaml">{preview_yaml()}</pre>
          </details>
        </section>
        <Show when={saveError()}>
          <div class="error" role="alert" data-testid="save-error">
            {saveError()}
          </div>
        </Show>
        <div class="al-form-foot">
          <button class="primary" type="submit" disabled={saving()} data-testid="save-rule">
            {saving() ? 'Saving…' : 'Save rule'}
          </button>
          <a class="button" href="/alerting" onClick={linkClick}>
            Cancel
          </a>
          <span class="grow" />
          <Show when={props.target}>
            <Show
              when={confirmDelete()}
              fallback={
                <button type="button" class="al-quiet" onClick={() => setConfirmDelete(true)} data-testid="editor-delete">
                  Delete rule
                </button>
              }
            >
              <span class="small">Delete {props.target!.rule}?</span>
              <button type="button" class="danger" onClick={() => void remove()} data-testid="editor-confirm-delete">
                Delete
              </button>
              <button type="button" onClick={() => setConfirmDelete(false)}>
                Cancel
              </button>
            </Show>
          </Show>
        </div>
      </form>
    </div>
  );
}
