// The dashboard HTTP API as the viewer uses it (Grafana's shapes): search, tags, folders, one
// dashboard with its meta.
import { apiGet } from '../api';
import { normalize, type Dashboard, type DashboardMeta } from './model';

export interface SearchHit {
  uid: string;
  title: string;
  url: string;
  slug?: string;
  type: string;
  tags: string[];
  folderUid?: string;
  folderTitle?: string;
}

export interface Folder {
  uid: string;
  title: string;
}

export function searchDashboards(query: string, tags: string[], signal?: AbortSignal): Promise<SearchHit[]> {
  return apiGet('/api/search', { query: query || undefined, tag: tags.length ? tags : undefined, type: 'dash-db' }, { signal });
}

export function dashboardTags(): Promise<{ term: string; count: number }[]> {
  return apiGet('/api/dashboards/tags', {});
}

export function folders(): Promise<Folder[]> {
  return apiGet('/api/folders', {});
}

export async function loadDashboard(uid: string, signal?: AbortSignal): Promise<{ dashboard: Dashboard; meta: DashboardMeta }> {
  const r = await apiGet(`/api/dashboards/uid/${encodeURIComponent(uid)}`, {}, { signal });
  return { dashboard: normalize(r.dashboard), meta: r.meta ?? {} };
}
