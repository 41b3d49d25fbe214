// The dashboard HTTP API calls the editor makes (Grafana's shapes): save with the 412 conflicts
// kept apart, versions, restore, folders, data sources, delete.
import { apiGet, apiSend, ApiError } from '../../api';
import { listDataSources as viewerDataSources } from '../datasources';
import type { Dashboard, DataSource } from './shape';

export interface Meta {
  version?: number;
  canSave?: boolean;
  canEdit?: boolean;
  provisioned?: boolean;
  provisionedExternalId?: string;
  folderUid?: string;
  folderTitle?: string;
  url?: string;
  slug?: string;
  [k: string]: unknown;
}

export interface Loaded {
  dashboard: Dashboard;
  meta: Meta;
}

export interface Saved {
  uid: string;
  url: string;
  version: number;
  status: string;
}

/** A save the server refused as Grafana does: a newer version, a same-named dashboard, read-only. */
export class SaveConflict extends Error {
  constructor(
    public kind: 'version-mismatch' | 'name-exists' | 'plugin-dashboard' | 'provisioned' | string,
    message: string,
  ) {
    super(message);
  }
}

export function loadDashboard(uid: string): Promise<Loaded> {
  return apiGet(`/api/dashboards/uid/${encodeURIComponent(uid)}`, {});
}

/** Panels in reading order (top to bottom, then left to right), as Grafana saves them. */
export function sortByGridPos(panels: Dashboard['panels']) {
  const at = (p: { gridPos?: { x?: number; y?: number } }) => [p.gridPos?.y ?? 0, p.gridPos?.x ?? 0];
  return [...(panels ?? [])].sort((a, b) => at(a)[0] - at(b)[0] || at(a)[1] - at(b)[1]);
}

export async function saveDashboard(dashboard: Dashboard, opts: { message?: string; overwrite?: boolean; folderUid?: string } = {}): Promise<Saved> {
  dashboard = { ...dashboard, panels: sortByGridPos(dashboard.panels) };
  const body: Record<string, unknown> = { dashboard, overwrite: !!opts.overwrite, message: opts.message ?? '' };
  if (opts.folderUid !== undefined) body.folderUid = opts.folderUid;
  try {
    const r = await apiSend('POST', '/api/dashboards/db', { body: JSON.stringify(body), contentType: 'application/json' });
    return JSON.parse(r.text);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 412 || e.status === 400) && e.body) {
      let j: any = null;
      try {
        j = JSON.parse(e.body);
      } catch {}
      if (e.status === 412 && j?.status) throw new SaveConflict(j.status, j.message ?? e.message);
      if (e.status === 400 && /provision/i.test(j?.message ?? e.body)) throw new SaveConflict('provisioned', j?.message ?? e.body);
    }
    throw e;
  }
}

export async function deleteDashboard(uid: string) {
  await apiSend('DELETE', `/api/dashboards/uid/${encodeURIComponent(uid)}`);
}

export interface VersionInfo {
  id: number;
  version: number;
  created: string;
  createdBy?: string;
  message?: string;
}

export async function listVersions(uid: string): Promise<VersionInfo[]> {
  const r: any = await apiGet(`/api/dashboards/uid/${encodeURIComponent(uid)}/versions`, {});
  // Grafana 11 answers {versions: [...]}, older ones a bare list.
  return Array.isArray(r) ? r : (r?.versions ?? []);
}

export async function getVersion(uid: string, version: number): Promise<Dashboard> {
  const r: any = await apiGet(`/api/dashboards/uid/${encodeURIComponent(uid)}/versions/${version}`, {});
  return r.data;
}

export async function restoreVersion(uid: string, version: number): Promise<Saved> {
  const r = await apiSend('POST', `/api/dashboards/uid/${encodeURIComponent(uid)}/restore`, { body: JSON.stringify({ version }), contentType: 'application/json' });
  return JSON.parse(r.text);
}

export interface Folder {
  uid: string;
  title: string;
}

export async function listFolders(): Promise<Folder[]> {
  try {
    return await apiGet('/api/folders', {});
  } catch {
    return [];
  }
}

export async function createFolder(title: string): Promise<Folder> {
  const r = await apiSend('POST', '/api/folders', { body: JSON.stringify({ title }), contentType: 'application/json' });
  return JSON.parse(r.text);
}

/** The data sources (the viewer's list: Bitácora's own store always among them). */
export const listDataSources: () => Promise<DataSource[]> = viewerDataSources;

export interface SearchHit {
  uid: string;
  title: string;
  url: string;
  folderTitle?: string;
  type: string;
}

export function searchDashboards(query = ''): Promise<SearchHit[]> {
  return apiGet('/api/search', { query, type: 'dash-db' });
}

/** Grafana's slug of a title: lower case, runs of other characters as one dash. */
export function slugify(title: string) {
  return (
    title
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'dashboard'
  );
}
