// Data sources: the list the server knows, how a panel's, target's or variable's reference
// (object, uid, name, `${ds}` variable, none) picks one, and requests to it through the
// server's proxy (Bitácora's own store is asked directly).
import { apiGet, CATEGORIZE } from '../api';
import { interpolate, type Vars } from './interpolate';
import type { DataSourceRef } from './model';

export interface DataSource {
  uid: string;
  name: string;
  type: string; // 'loki' | 'prometheus'
  isDefault?: boolean;
  jsonData?: { timeInterval?: string; [k: string]: unknown };
}

/** Bitácora's own store. */
export const BUILTIN_UID = 'bitacora';
const BUILTIN: DataSource = { uid: BUILTIN_UID, name: 'Bitácora', type: 'loki', isDefault: true };

let cache: Promise<DataSource[]> | undefined;

/** The server's data sources (fetched once per page load); Bitácora's own store is always among them. */
export function listDataSources(): Promise<DataSource[]> {
  cache ??= apiGet<DataSource[]>('/api/datasources', {})
    .then((l) => (Array.isArray(l) ? l : []))
    .catch(() => [] as DataSource[])
    .then((l) => (l.some((d) => d.uid === BUILTIN_UID) ? l : [BUILTIN, ...l]));
  return cache;
}

/** The data source a reference names, or an error sentence. */
export function resolveDataSource(ref: DataSourceRef | string | null | undefined, list: DataSource[], vars: Vars): DataSource | string {
  const dflt = list.find((d) => d.isDefault) ?? list.find((d) => d.uid === BUILTIN_UID) ?? BUILTIN;
  if (ref == null || ref === '' || ref === 'default') return dflt;
  let key: string | undefined;
  let type: string | undefined;
  if (typeof ref === 'string') key = ref;
  else {
    key = ref.uid;
    type = ref.type;
  }
  if (!key) return (type && list.find((d) => d.type === type && d.isDefault)) || (type && list.find((d) => d.type === type)) || dflt;
  key = interpolate(key, vars);
  if (key === 'default') return dflt;
  const hit = list.find((d) => d.uid === key) ?? list.find((d) => d.name === key);
  if (hit) return hit;
  // A dashboard made elsewhere names a uid this server does not have: one of the same type stands in.
  const sameType = type ? list.filter((d) => d.type === type) : [];
  if (sameType.length === 1) return sameType[0];
  if (type === 'loki' && !sameType.length) return dflt;
  return `Data source "${key}" is not configured on this server`;
}

/** A GET to the data source's API (`loki/api/v1/...` or `api/v1/...`), JSON answer. */
export function dsGet<T = any>(ds: DataSource, path: string, params: Record<string, string | number | string[] | undefined>, opts: { signal?: AbortSignal; logs?: boolean } = {}): Promise<T> {
  const url = ds.uid === BUILTIN_UID ? `/${path}` : `/api/datasources/proxy/uid/${encodeURIComponent(ds.uid)}/${path}`;
  return apiGet<T>(url, params, { signal: opts.signal, headers: opts.logs && ds.uid === BUILTIN_UID ? CATEGORIZE : undefined });
}

/** The URL a request goes to, for the inspector. */
export function dsUrl(ds: DataSource, path: string, params: Record<string, string | number | undefined>) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.set(k, String(v));
  return `${ds.uid === BUILTIN_UID ? '' : `/api/datasources/proxy/uid/${ds.uid}`}/${path}?${u}`;
}
