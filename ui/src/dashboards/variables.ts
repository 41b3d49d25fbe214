// Template variables: their options (query against Loki or Prometheus, custom, interval,
// textbox, constant, datasource), the regex filter and sort, the current values (from the URL's
// `var-x=`, else the dashboard), and refreshing the variables that depend on one that changed.
import { batch, createMemo, createSignal } from 'solid-js';
import { builtinVars, computeIntervals, interpolate, references, type VarValue, type Vars } from './interpolate';
import { dsGet, resolveDataSource, type DataSource } from './datasources';
import type { Variable, VariableOption } from './model';

export interface VarState {
  def: Variable;
  options: VariableOption[];
  /** Selected values (`$__all` for All). */
  current: string[];
  loading: boolean;
  error?: string;
}

const ALL = '$__all';

/** A variable's query as text (Grafana stores some as objects). */
export function queryText(v: Variable): string {
  const q = v.query;
  if (q == null) return v.definition ?? '';
  if (typeof q === 'string') return q;
  if (q.query) return q.query;
  // Loki's structured form: type 0 = label names, 1 = label values.
  if (q.type === 0) return 'label_names()';
  if (q.type === 1 && q.label) return q.stream ? `label_values(${q.stream}, ${q.label})` : `label_values(${q.label})`;
  return v.definition ?? '';
}

/** Custom options: `a, b, c` or `text : value` pairs; `\,` is a comma inside a value. */
export function parseCustom(query: string): VariableOption[] {
  const parts = query.match(/(?:\\,|[^,])+/g) ?? [];
  return parts
    .map((p) => p.trim().replace(/\\,/g, ','))
    .filter((p) => p !== '')
    .map((p) => {
      const m = /^(.+?)\s:\s(.+)$/.exec(p);
      return m ? { text: m[1].trim(), value: m[2].trim() } : { text: p, value: p };
    });
}

/** Grafana's regex filter: `/re/flags`; a capture group (or named groups `text`/`value`) picks the value. */
export function applyRegex(values: string[], regex: string | undefined): VariableOption[] {
  if (!regex) return values.map((v) => ({ text: v, value: v }));
  const m = /^\/(.*)\/([gimsuy]*)$/s.exec(regex);
  let re: RegExp;
  try {
    re = m ? new RegExp(m[1], m[2].replace('g', '')) : new RegExp(regex);
  } catch {
    throw new Error(`The variable's regex ${regex} is not a valid regular expression`);
  }
  const out: VariableOption[] = [];
  const seen = new Set<string>();
  for (const v of values) {
    const hit = re.exec(v);
    if (!hit) continue;
    const g = hit.groups ?? {};
    const value = g.value ?? g.text ?? hit[1] ?? v;
    const text = g.text ?? g.value ?? hit[1] ?? v;
    if (seen.has(value)) continue;
    seen.add(value);
    out.push({ text, value });
  }
  return out;
}

/** Grafana's sort: 1/2 alphabetical, 3/4 numerical, 5/6 alphabetical ignoring case (odd ascending). */
export function sortOptions(opts: VariableOption[], sort = 0): VariableOption[] {
  if (!sort) return opts;
  const num = (s: string) => {
    const m = /-?\d+(\.\d+)?/.exec(s);
    return m ? Number(m[0]) : -Infinity;
  };
  const s = [...opts];
  if (sort === 1 || sort === 2) s.sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  else if (sort === 3 || sort === 4) s.sort((a, b) => num(a.text) - num(b.text));
  else s.sort((a, b) => a.text.toLowerCase().localeCompare(b.text.toLowerCase()));
  if (sort % 2 === 0) s.reverse();
  return s;
}

interface LoadContext {
  vars: Vars;
  from: number;
  to: number;
  datasources: DataSource[];
}

/** Splits `fn(a, b)` arguments at top-level commas (selectors contain commas). */
function args(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  let quote = '';
  for (const c of s) {
    if (quote) {
      if (c === quote) quote = '';
      cur += c;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    if ('({['.includes(c)) depth++;
    if (')}]'.includes(c)) depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** The raw values a query variable's query answers. */
async function queryValues(def: Variable, ctx: LoadContext): Promise<string[]> {
  const ds = resolveDataSource(def.datasource, ctx.datasources, ctx.vars);
  if (typeof ds === 'string') throw new Error(ds);
  const all = { ...ctx.vars, ...builtinVars({ from: ctx.from, to: ctx.to, maxDataPoints: 1000 }) };
  const q = interpolate(queryText(def), all, ds.type === 'prometheus' ? 'prometheus' : 'loki').trim();
  const fn = /^(\w+)\(([\s\S]*)\)$/.exec(q);
  const name = fn?.[1];
  const a = fn ? args(fn[2]) : [];
  if (ds.type === 'prometheus') {
    const start = Math.floor(ctx.from / 1000), end = Math.ceil(ctx.to / 1000);
    if (name === 'label_names') return (await dsGet(ds, 'api/v1/labels', { start, end, 'match[]': a[0] || undefined })).data ?? [];
    if (name === 'label_values' && a.length === 1) return (await dsGet(ds, `api/v1/label/${encodeURIComponent(a[0])}/values`, { start, end })).data ?? [];
    if (name === 'label_values' && a.length === 2) return (await dsGet(ds, `api/v1/label/${encodeURIComponent(a[1])}/values`, { start, end, 'match[]': a[0] })).data ?? [];
    if (name === 'metrics') {
      const names: string[] = (await dsGet(ds, 'api/v1/label/__name__/values', { start, end })).data ?? [];
      const re = new RegExp(a[0] ?? '.*');
      return names.filter((n) => re.test(n));
    }
    const expr = name === 'query_result' ? fn![2] : q;
    const r = await dsGet(ds, 'api/v1/query', { query: expr, time: end });
    return (r.data?.result ?? []).map((s: any) => {
      const { __name__, ...labels } = s.metric ?? {};
      const l = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
      return `${__name__ ?? ''}{${l}} ${s.value?.[1]} ${Math.round(Number(s.value?.[0]) * 1000)}`;
    });
  }
  const start = `${ctx.from}000000`, end = `${ctx.to}000000`;
  if (name === 'label_names') return (await dsGet(ds, 'loki/api/v1/labels', { start, end })).data ?? [];
  if (name === 'label_values' && a.length === 1) return (await dsGet(ds, `loki/api/v1/label/${encodeURIComponent(a[0])}/values`, { start, end })).data ?? [];
  if (name === 'label_values' && a.length === 2) return (await dsGet(ds, `loki/api/v1/label/${encodeURIComponent(a[1])}/values`, { start, end, query: a[0] })).data ?? [];
  throw new Error(`"${q}" is not a Loki variable query: use label_names(), label_values(label) or label_values({selector}, label)`);
}

/** A variable's options for the current range and the other variables' values. */
export async function loadOptions(def: Variable, ctx: LoadContext): Promise<VariableOption[]> {
  switch (def.type) {
    case 'query':
      return sortOptions(applyRegex(await queryValues(def, ctx), def.regex), def.sort);
    case 'custom':
      return parseCustom(queryText(def));
    case 'interval': {
      const opts = parseCustom(queryText(def));
      return def.auto ? [{ text: 'auto', value: `$__auto_interval_${def.name}` }, ...opts] : opts;
    }
    case 'textbox': {
      const v = def.current?.value ?? queryText(def);
      const s = Array.isArray(v) ? v[0] ?? '' : v;
      return [{ text: s, value: s }];
    }
    case 'constant':
      return [{ text: queryText(def), value: queryText(def) }];
    case 'datasource': {
      const type = queryText(def);
      const list = ctx.datasources.filter((d) => !type || d.type === type);
      const names = applyRegex(list.map((d) => d.name), def.regex).map((o) => o.value);
      return list.filter((d) => names.includes(d.name)).map((d) => ({ text: d.name, value: d.uid }));
    }
    default:
      return (def.options ?? []).map((o) => ({ text: o.text, value: o.value }));
  }
}

const asList = (v: string | string[] | undefined) => (v == null ? [] : Array.isArray(v) ? v : [v]);

/** Keeps the current selection when still offered, else the first option (All, when offered, comes first). */
function settle(def: Variable, options: VariableOption[], wanted: string[]): string[] {
  if (def.type === 'textbox' || def.type === 'constant') return wanted.length ? wanted.slice(0, 1) : [options[0]?.value ?? ''];
  const values = new Set(options.map((o) => o.value));
  const texts = new Map(options.map((o) => [o.text, o.value]));
  if (wanted.length === 1 && (wanted[0] === ALL || wanted[0] === 'All' || wanted[0] === '$__all') && def.includeAll) return [ALL];
  const kept = wanted.map((w) => (values.has(w) ? w : texts.get(w))).filter((w): w is string => w !== undefined);
  if (kept.length) return def.multi ? kept : kept.slice(0, 1);
  if (def.includeAll) return [ALL];
  return options.length ? [options[0].value] : [];
}

/** The variables' values as interpolation sees them. */
export function toVars(states: VarState[], range: { from: number; to: number }): Vars {
  const out: Vars = {};
  for (const s of states) {
    const d = s.def;
    let value = s.current;
    if (d.type === 'interval' && value[0]?.startsWith('$__auto_interval')) {
      value = [computeIntervals({ from: range.from, to: range.to, maxDataPoints: d.auto_count || 30, minInterval: d.auto_min || '10s' }).interval];
    }
    const text = value.map((v) => (v === ALL ? 'All' : s.options.find((o) => o.value === v)?.text ?? v));
    const vv: VarValue = { value, text, multi: d.multi, includeAll: d.includeAll, allValue: d.allValue, options: s.options.map((o) => o.value) };
    out[d.name] = vv;
  }
  return out;
}

/** The names of the variables whose options depend (directly or through others) on `name`. */
export function dependents(list: Variable[], name: string): string[] {
  const out = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const v of list) {
      if (out.has(v.name) || v.name === name) continue;
      const ds = typeof v.datasource === 'string' ? v.datasource : v.datasource?.uid;
      const refs = [...references(queryText(v)), ...references(ds ?? ''), ...references(v.regex)];
      if (refs.some((r) => r === name || out.has(r))) {
        out.add(v.name);
        grew = true;
      }
    }
  }
  return list.filter((v) => out.has(v.name)).map((v) => v.name);
}

/** `var-x=` values from a query string. */
export function urlValues(search: string): Map<string, string[]> {
  const p = new URLSearchParams(search);
  const out = new Map<string, string[]>();
  for (const [k, v] of p) if (k.startsWith('var-')) out.set(k.slice(4), [...(out.get(k.slice(4)) ?? []), v]);
  return out;
}

/** A dashboard's variables: reactive states, values for interpolation, selection and refresh. */
export function createVariables(list: Variable[], opts: { datasources: DataSource[]; range: () => { from: number; to: number }; fromUrl: Map<string, string[]> }) {
  const initial: VarState[] = list.map((def) => ({
    def,
    options: (def.options ?? []).map((o) => ({ text: o.text, value: o.value })),
    current: opts.fromUrl.get(def.name) ?? asList(def.current?.value),
    loading: def.type === 'query' || def.type === 'datasource',
  }));
  const [states, setStates] = createSignal(initial);
  const [ready, setReady] = createSignal(false);
  const vars = createMemo(() => toVars(states(), opts.range()));
  let generation = 0;

  const patch = (name: string, p: Partial<VarState>) => setStates((s) => s.map((x) => (x.def.name === name ? { ...x, ...p } : x)));

  /** Loads the options of the named variables, in dashboard order (so chained ones see fresh values). */
  async function refresh(names: string[]) {
    const gen = ++generation;
    for (const name of names) {
      const st = states().find((s) => s.def.name === name);
      if (!st) continue;
      patch(name, { loading: true });
      try {
        const r = opts.range();
        const options = await loadOptions(st.def, { vars: toVars(states(), r), from: r.from, to: r.to, datasources: opts.datasources });
        if (gen !== generation) return;
        const cur = states().find((s) => s.def.name === name)!.current;
        patch(name, { options, current: settle(st.def, options, cur), loading: false, error: undefined });
      } catch (e: any) {
        if (gen !== generation) return;
        patch(name, { loading: false, error: e?.message ?? String(e), options: [], current: st.current });
      }
    }
  }

  return {
    states,
    vars,
    ready,
    /** First load: every variable's options, in order. */
    async init() {
      await refresh(list.map((v) => v.name));
      setReady(true);
    },
    /** After the time range changed: the query variables Grafana refreshes on range changes (refresh: 2). */
    onRangeChange() {
      const names = list.filter((v) => v.type === 'query' && v.refresh === 2).map((v) => v.name);
      if (names.length) void refresh(names);
    },
    /** A new selection; the variables depending on it are refreshed after. */
    async select(name: string, values: string[]) {
      batch(() => patch(name, { current: values }));
      const deps = dependents(list, name);
      if (deps.length) await refresh(deps);
    },
  };
}

export type VariableSet = ReturnType<typeof createVariables>;
