// "Add to dashboard" from Explore: pick a dashboard (or a new one); the query becomes a panel
// (a time series for a metric query, logs for a log query) waiting in this tab's session storage,
// and the dashboard opens in edit mode, where the editor adds it to the draft (unsaved).
import { createResource, createSignal, For, Show } from 'solid-js';
import { navigate } from '../../router';
import { searchDashboards } from './api';
import { dashUrl } from './editor';
import type { Panel } from './shape';
import './edit.css';

const KEY = 'bitacora.pendingPanel';

export function takePendingPanel(uid: string): Omit<Panel, 'id' | 'gridPos'> | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const v = JSON.parse(raw);
    if ((v.uid ?? '') !== uid) return null;
    sessionStorage.removeItem(KEY);
    return v.panel;
  } catch {
    return null;
  }
}

export function AddToDashboard(props: { query: string; metric: boolean; onClose: () => void }) {
  const [mode, setMode] = createSignal<'new' | 'existing'>('new');
  const [filter, setFilter] = createSignal('');
  const [chosen, setChosen] = createSignal('');
  const [hits] = createResource(filter, (q) => searchDashboards(q).catch(() => []), { initialValue: [] });
  const go = () => {
    const panel = {
      type: props.metric ? 'timeseries' : 'logs',
      title: props.metric ? 'New panel' : 'Logs',
      targets: [{ refId: 'A', expr: props.query }],
      fieldConfig: { defaults: {}, overrides: [] },
      options: props.metric ? {} : { showTime: true, wrapLogMessage: true, sortOrder: 'Descending' },
      gridPos: { x: 0, y: 0, w: props.metric ? 12 : 24, h: props.metric ? 8 : 10 },
    };
    const hit = hits().find((h) => h.uid === chosen());
    const uid = mode() === 'existing' && hit ? hit.uid : '';
    sessionStorage.setItem(KEY, JSON.stringify({ uid, panel }));
    navigate(uid ? dashUrl(uid, hit!.title, { edit: '1' }) : '/dashboard/new?edit=1');
  };
  return (
    <div class="de-modal-back" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="de-modal panel" role="dialog" aria-modal="true" aria-labelledby="de-add-title" data-testid="add-to-dashboard" onKeyDown={(e) => e.key === 'Escape' && props.onClose()}>
        <h2 id="de-add-title">Add the query to a dashboard</h2>
        <p class="muted small">
          As a {props.metric ? 'time series' : 'logs'} panel: <code>{props.query}</code>
        </p>
        <label class="de-check">
          <input type="radio" name="de-target" checked={mode() === 'new'} onChange={() => setMode('new')} data-testid="add-new" />
          New dashboard
        </label>
        <label class="de-check">
          <input type="radio" name="de-target" checked={mode() === 'existing'} onChange={() => setMode('existing')} data-testid="add-existing" />
          Existing dashboard
        </label>
        <Show when={mode() === 'existing'}>
          <input value={filter()} placeholder="Search dashboards" onInput={(e) => setFilter(e.currentTarget.value)} aria-label="Search dashboards" />
          <select size={6} value={chosen()} onChange={(e) => setChosen(e.currentTarget.value)} aria-label="Dashboard" data-testid="add-choose" class="de-choose">
            <For each={hits()}>{(h) => <option value={h.uid}>{h.folderTitle ? `${h.folderTitle} / ${h.title}` : h.title}</option>}</For>
          </select>
        </Show>
        <div class="de-modal-foot">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="button" class="primary" disabled={mode() === 'existing' && !chosen()} onClick={go} data-testid="add-open">
            Open dashboard
          </button>
        </div>
      </div>
    </div>
  );
}
