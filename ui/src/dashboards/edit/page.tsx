// The editor's pages: `/d/<uid>/<slug>?edit=1` (also `editPanel=`, `editview=`) loads the
// dashboard and edits it; `/dashboard/new` starts an empty one. Panels are drawn live with the
// viewer's components unless the caller hands over another drawing (`renderPanel`).
import { createResource, For, Show } from 'solid-js';
import { navigate, path } from '../../router';
import { loadDashboard, type Loaded } from './api';
import { DashboardEditor, dashUrl, type RenderPanel } from './editor';
import type { Dashboard, Panel } from './shape';

/** True when the URL asks for edit mode. */
export function wantsEdit(search: string) {
  const p = new URLSearchParams(search);
  return p.has('editPanel') || p.has('editview') || p.get('edit') === '1';
}

export function emptyDashboard(): Dashboard {
  return { title: 'New dashboard', uid: '', tags: [], timezone: 'browser', schemaVersion: 39, time: { from: 'now-6h', to: 'now' }, refresh: '', panels: [], templating: { list: [] }, editable: true };
}

/** What a panel is when nothing draws it: its type and its queries. */
export const outlinePanel: RenderPanel = (p: () => Panel) => (
  <div class="de-outline" data-testid="panel-outline">
    <span class="muted small">{p().type}</span>
    <For each={p().targets ?? []}>{(t) => <code class="small">{String(t.expr ?? '')}</code>}</For>
  </div>
);

export default function EditPage(props: { renderPanel?: RenderPanel; onExit?: (latest: Loaded) => void }) {
  const isNew = () => path() === '/dashboard/new';
  const uid = () => (isNew() ? '' : decodeURIComponent(path().split('/')[2] ?? ''));
  const [loaded] = createResource(
    () => ({ uid: uid(), isNew: isNew() }),
    async (k): Promise<Loaded> => (k.isNew ? { dashboard: emptyDashboard(), meta: { canSave: true, canEdit: true, version: 0 } } : loadDashboard(k.uid)),
  );
  const exit = (latest: Loaded) => {
    if (props.onExit) return props.onExit(latest);
    if (!latest.dashboard.uid) return navigate('/dashboards', { force: true });
    navigate(dashUrl(latest.dashboard.uid, latest.dashboard.title), { force: true });
  };
  return (
    <Show when={loaded()} fallback={<Show when={loaded.error} fallback={<div class="muted pad">Loading the dashboard…</div>}>
      <div class="error" role="alert">{String(loaded.error?.message ?? loaded.error)}</div>
    </Show>}>
      {(l) => <DashboardEditor loaded={l()} isNew={isNew()} renderPanel={props.renderPanel} onExit={exit} />}
    </Show>
  );
}
