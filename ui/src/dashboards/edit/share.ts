// Export and import of dashboard JSON as Grafana does them. "Export for sharing externally"
// replaces each data source the dashboard uses with an input `${DS_<NAME>}` listed in `__inputs`
// (with `__requires` naming the plugins); import asks for a data source per input and writes its
// uid wherever the input was used.
import type { Dashboard, DataSource, DsRef, ImportInput, Panel } from './shape';

const clone = <T,>(v: T): T => JSON.parse(JSON.stringify(v));

const PLUGIN_NAMES: Record<string, string> = { loki: 'Loki', prometheus: 'Prometheus' };

/** The input name Grafana gives a data source: DS_ and its name in capitals, other characters as _. */
export function inputName(dsName: string) {
  return `DS_${dsName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

const isVarRef = (s: string) => /^\$\{?[\w.:]+\}?$/.test(s);

/** The data source a reference names (uid, name or `{uid}`), the default one when none. */
export function resolveDs(ref: DsRef | string | null | undefined, all: DataSource[]): DataSource | undefined {
  if (ref === null || ref === undefined || ref === '' || ref === 'default') return all.find((d) => d.isDefault) ?? all[0];
  const key = typeof ref === 'string' ? ref : ref.uid;
  if (!key) return all.find((d) => d.isDefault) ?? all[0];
  return all.find((d) => d.uid === key) ?? all.find((d) => d.name === key);
}

/** Every place a panel, target or variable names a data source, with a setter. */
function refs(d: Dashboard): { get: () => DsRef | string | null | undefined; set: (v: DsRef) => void; owner: 'panel' | 'target' | 'variable' }[] {
  const out: { get: () => any; set: (v: DsRef) => void; owner: 'panel' | 'target' | 'variable' }[] = [];
  const walk = (ps: Panel[]) => {
    for (const p of ps) {
      if (p.type === 'row') {
        walk(p.panels ?? []);
        continue;
      }
      if (p.type === 'text') continue;
      out.push({ get: () => p.datasource, set: (v) => (p.datasource = v), owner: 'panel' });
      for (const t of p.targets ?? []) if (t.datasource !== undefined) out.push({ get: () => t.datasource, set: (v) => (t.datasource = v), owner: 'target' });
    }
  };
  walk(d.panels ?? []);
  for (const v of d.templating?.list ?? []) if (v.type === 'query') out.push({ get: () => v.datasource, set: (x) => (v.datasource = x), owner: 'variable' });
  return out;
}

/** The dashboard made shareable: data sources become `${DS_...}` inputs, ids and versions dropped. */
export function externalize(dash: Dashboard, all: DataSource[]): Dashboard {
  const d = clone(dash);
  const inputs = new Map<string, ImportInput>();
  for (const r of refs(d)) {
    const cur = r.get();
    const key = typeof cur === 'string' ? cur : cur?.uid;
    if (key && isVarRef(key)) continue; // a data source variable stays a variable
    const ds = resolveDs(cur, all);
    if (!ds) continue;
    const name = inputName(ds.name);
    if (!inputs.has(name)) inputs.set(name, { name, label: ds.name, description: '', type: 'datasource', pluginId: ds.type, pluginName: PLUGIN_NAMES[ds.type] ?? ds.type });
    r.set({ type: ds.type, uid: `\${${name}}` });
  }
  for (const v of d.templating?.list ?? []) {
    if (v.type === 'query') {
      v.current = {};
      v.options = [];
    }
  }
  const plugins = new Set([...inputs.values()].map((i) => i.pluginId!));
  const panelTypes = new Set<string>();
  const walk = (ps: Panel[]) => ps.forEach((p) => (p.type === 'row' ? walk(p.panels ?? []) : panelTypes.add(p.type)));
  walk(d.panels ?? []);
  const requires = [
    ...[...plugins].map((id) => ({ type: 'datasource', id, name: PLUGIN_NAMES[id] ?? id, version: '1.0.0' })),
    ...[...panelTypes].map((id) => ({ type: 'panel', id, name: id, version: '' })),
  ];
  const { id: _id, version: _v, ...rest } = d;
  return { __inputs: [...inputs.values()], __elements: {}, __requires: requires, ...rest, id: null } as Dashboard;
}

/** The inputs an imported dashboard asks for (only data source and constant inputs). */
export function importInputs(d: Dashboard): ImportInput[] {
  return (Array.isArray(d.__inputs) ? d.__inputs : []).filter((i) => i && typeof i.name === 'string' && (i.type === 'datasource' || i.type === 'constant'));
}

/** Replaces `${NAME}` of each input by its answer everywhere in the dashboard; drops the share fields. */
export function applyInputs(d: Dashboard, answers: Record<string, string>): Dashboard {
  const names = Object.keys(answers);
  const sub = (s: string) => s.replace(/\$\{([\w.]+)\}/g, (m, n) => (names.includes(n) ? answers[n] : m));
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return sub(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const { __inputs: _i, __requires: _r, __elements: _e, ...rest } = d as Dashboard & { __elements?: unknown };
  const out = walk(rest) as Dashboard;
  out.id = null;
  return out;
}

/** Checks pasted text is a dashboard: JSON, an object, with panels (or rows) and a title. */
export function parseDashboard(text: string): Dashboard | string {
  let v: any;
  try {
    v = JSON.parse(text);
  } catch (e: any) {
    return `This is not JSON: ${e?.message ?? e}`;
  }
  if (v && typeof v === 'object' && v.dashboard && typeof v.dashboard === 'object' && !Array.isArray(v.dashboard)) v = v.dashboard;
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'A dashboard is a JSON object (with "title" and "panels").';
  if (v.panels !== undefined && !Array.isArray(v.panels)) return '"panels" must be a list.';
  if (v.title !== undefined && typeof v.title !== 'string') return '"title" must be a string.';
  if (!v.panels && !v.rows) return 'This JSON has no "panels": it does not look like a Grafana dashboard.';
  return { ...v, panels: v.panels ?? [] } as Dashboard;
}

/** A new random uid like Grafana's (14 characters). */
export function newUid() {
  const abc = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const b = new Uint8Array(14);
  crypto.getRandomValues(b);
  return [...b].map((x) => abc[x % abc.length]).join('');
}
