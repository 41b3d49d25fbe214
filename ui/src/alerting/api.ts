// The alerting APIs as the page uses them: Prometheus' rules and alerts (JSON), Loki's ruler (YAML
// rule groups), Alertmanager's silences, and Bitácora's own templates and receivers.
import { parse, stringify } from 'yaml';
import { apiGet, ApiError, apiSend } from '../api';

export type AlertState = 'inactive' | 'pending' | 'firing';

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: AlertState | string;
  activeAt?: string;
  value?: string | number;
}

export interface PromRule {
  type: 'alerting' | 'recording';
  name: string;
  query: string;
  duration?: number;
  keepFiringFor?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  state?: AlertState | string;
  health: 'ok' | 'err' | 'unknown' | string;
  lastError?: string;
  evaluationTime?: number;
  lastEvaluation?: string;
  alerts?: PromAlert[];
}

export interface PromGroup {
  name: string;
  file: string;
  interval?: number;
  lastEvaluation?: string;
  evaluationTime?: number;
  rules: PromRule[];
}

export async function loadRules(signal?: AbortSignal): Promise<PromGroup[]> {
  const r = await apiGet('/prometheus/api/v1/rules', {}, { signal });
  return r?.data?.groups ?? [];
}

// ---- Loki's ruler: rule groups as YAML ----

/** A rule as a rule file writes it. */
export interface RuleDef {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [k: string]: unknown;
}

export interface GroupDef {
  name: string;
  interval?: string;
  limit?: number;
  rules: RuleDef[];
  [k: string]: unknown;
}

const seg = encodeURIComponent;
const YAML_TYPE = 'application/yaml';

/** The group as the ruler stores it, or null when it does not exist (404). */
export async function getGroup(ns: string, group: string): Promise<GroupDef | null> {
  try {
    const { text } = await apiSend('GET', `/loki/api/v1/rules/${seg(ns)}/${seg(group)}`);
    const g = parse(text);
    if (!g || typeof g !== 'object') throw new ApiError(`The ruler answered something that is not a rule group: ${text.slice(0, 120)}`);
    // Some rulers answer `{namespace: [group]}` even for one group.
    if (!('rules' in g)) {
      const groups = Object.values(g).flat() as GroupDef[];
      const found = groups.find((x) => x && x.name === group);
      if (found) return { ...found, rules: found.rules ?? [] };
    }
    return { ...g, rules: g.rules ?? [] };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export const groupYaml = (g: GroupDef) => stringify(g, { lineWidth: 0 });

export async function postGroup(ns: string, g: GroupDef) {
  await apiSend('POST', `/loki/api/v1/rules/${seg(ns)}`, { body: groupYaml(g), contentType: YAML_TYPE });
}

export async function deleteGroup(ns: string, group: string) {
  await apiSend('DELETE', `/loki/api/v1/rules/${seg(ns)}/${seg(group)}`);
}

export const ruleName = (r: RuleDef) => r.alert ?? r.record ?? '';

/** Removes one rule from its group: the group is posted without it, or deleted when it was the last. */
export async function deleteRule(ns: string, group: string, name: string) {
  const g = await getGroup(ns, group);
  if (!g) throw new ApiError(`The group ${group} of ${ns} does not exist any more`, 404);
  const rules = g.rules.filter((r) => ruleName(r) !== name);
  if (rules.length === g.rules.length) throw new ApiError(`The group ${group} has no rule named ${name}`, 404);
  if (rules.length === 0) await deleteGroup(ns, group);
  else await postGroup(ns, { ...g, rules });
}

// ---- ready-made rules ----

export interface Template {
  name: string;
  namespace: string;
  description: string;
  yaml: string;
}

export async function loadTemplates(): Promise<Template[]> {
  const r = await apiGet('/api/alerting/templates', {});
  return Array.isArray(r) ? r : (r?.data ?? r?.templates ?? []);
}

/** The groups of a rule file: `groups: [...]`, a single group, or Loki's `{namespace: [groups]}`. */
export function templateGroups(text: string): GroupDef[] {
  const doc = parse(text);
  if (!doc || typeof doc !== 'object') return [];
  if (Array.isArray(doc.groups)) return doc.groups;
  if (Array.isArray(doc)) return doc;
  if ('rules' in doc && 'name' in doc) return [doc];
  return Object.values(doc).filter(Array.isArray).flat() as GroupDef[];
}

// ---- silences (Alertmanager's v2 API) ----

export interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual?: boolean;
}

export interface Silence {
  id: string;
  status: { state: 'active' | 'pending' | 'expired' | string };
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

export const loadSilences = async (): Promise<Silence[]> => (await apiGet('/api/v2/silences', {})) ?? [];

export async function createSilence(s: { matchers: Matcher[]; startsAt: string; endsAt: string; createdBy: string; comment: string }): Promise<string> {
  const { text } = await apiSend('POST', '/api/v2/silences', { body: JSON.stringify(s), contentType: 'application/json' });
  try {
    return JSON.parse(text).silenceID ?? '';
  } catch {
    return '';
  }
}

export const expireSilence = (id: string) => apiSend('DELETE', `/api/v2/silence/${seg(id)}`);

export function matcherText(m: Matcher) {
  const op = m.isEqual === false ? (m.isRegex ? '!~' : '!=') : m.isRegex ? '=~' : '=';
  return `${m.name}${op}${JSON.stringify(m.value)}`;
}

// ---- receivers ----

export interface Integration {
  type: string;
  target?: string;
  sent?: number;
  failed?: number;
  lastAttempt?: string | null;
  lastError?: string | null;
  lastSuccess?: string | null;
}

export interface Receiver {
  name: string;
  integrations: Integration[];
}

export async function loadReceivers(): Promise<Receiver[]> {
  const r = await apiGet('/api/alerting/receivers', {});
  return Array.isArray(r) ? r : (r?.data ?? r?.receivers ?? []);
}

/** Sends a test notification: the server's per-integration results, also when some failed (502);
 * any other refusal (no such receiver, no integrations) is thrown. */
export async function testReceiver(name: string): Promise<unknown> {
  let text: string;
  try {
    text = (await apiSend('POST', `/api/alerting/receivers/${seg(name)}/test`)).text;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 502 || !e.body) throw e;
    try {
      const j = JSON.parse(e.body);
      if (Array.isArray(j?.results)) return j;
    } catch {}
    throw e;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// ---- history: state changes kept as log lines ----

export interface Transition {
  ts: string; // nanoseconds
  ms: number;
  alertname: string;
  state: string;
  previous?: string;
  labels: Record<string, string>;
  value?: string | number;
  namespace?: string;
  group?: string;
  activeAt?: string;
  raw: string;
}

export function historyQuery(alertname?: string) {
  return alertname ? `{app="bitacora", source="alerts", alertname=${JSON.stringify(alertname)}}` : '{app="bitacora", source="alerts"}';
}

export function parseTransitions(result: any[]): Transition[] {
  const out: Transition[] = [];
  for (const s of result ?? []) {
    for (const [ts, line] of s.values ?? []) {
      let j: any = {};
      try {
        j = JSON.parse(line);
      } catch {}
      out.push({
        ts,
        ms: Number(String(ts).slice(0, -6) || 0),
        alertname: j.alertname ?? s.stream?.alertname ?? '',
        state: j.state ?? '',
        previous: j.previous,
        labels: j.labels ?? {},
        value: j.value,
        namespace: j.namespace,
        group: j.group,
        activeAt: j.activeAt,
        raw: line,
      });
    }
  }
  return out.sort((a, b) => (a.ts.length !== b.ts.length ? b.ts.length - a.ts.length : a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : 0));
}
