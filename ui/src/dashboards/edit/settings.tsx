// Dashboard settings: title, description, tags, folder, default time range, refresh, time zone,
// the variables, and the JSON model (edited as text, applied when it parses).
import { createResource, createSignal, For, Show } from 'solid-js';
import { createFolder, listFolders, type Folder } from './api';
import { parseDashboard } from './share';
import type { Dashboard, DataSource } from './shape';
import { VariablesEditor } from './variables';

const REFRESHES = ['', '5s', '10s', '30s', '1m', '5m', '15m', '30m', '1h'];

export function Settings(props: { dash: Dashboard; folderUid: string; all: DataSource[]; onChange: (d: Dashboard) => void; onFolder: (uid: string) => void; onClose: () => void }) {
  const [tab, setTab] = createSignal<'general' | 'variables' | 'json'>('general');
  const [folders, { refetch }] = createResource<Folder[]>(listFolders, { initialValue: [] });
  const [newFolder, setNewFolder] = createSignal('');
  const [folderError, setFolderError] = createSignal('');
  const [json, setJson] = createSignal('');
  const [jsonError, setJsonError] = createSignal('');
  const d = () => props.dash;
  const set = (patch: Partial<Dashboard>) => props.onChange({ ...d(), ...patch });

  const makeFolder = async () => {
    setFolderError('');
    try {
      const f = await createFolder(newFolder().trim());
      await refetch();
      props.onFolder(f.uid);
      setNewFolder('');
    } catch (e: any) {
      setFolderError(e?.message ?? String(e));
    }
  };
  const openJson = () => {
    setJson(JSON.stringify(d(), null, 2));
    setJsonError('');
    setTab('json');
  };
  const applyJson = () => {
    const r = parseDashboard(json());
    if (typeof r === 'string') return setJsonError(r);
    // The uid stays: changing it here would save a different dashboard.
    props.onChange({ ...r, uid: d().uid, version: d().version });
    setJsonError('');
  };

  return (
    <div class="de-settings" data-testid="dashboard-settings">
      <div class="de-pe-bar">
        <button type="button" class="primary" onClick={props.onClose} data-testid="settings-close">
          ← Back to dashboard
        </button>
        <nav class="de-tabs" aria-label="Settings">
          <button type="button" aria-current={tab() === 'general' ? 'page' : undefined} onClick={() => setTab('general')}>
            General
          </button>
          <button type="button" aria-current={tab() === 'variables' ? 'page' : undefined} onClick={() => setTab('variables')} data-testid="settings-variables">
            Variables
          </button>
          <button type="button" aria-current={tab() === 'json' ? 'page' : undefined} onClick={openJson} data-testid="settings-json">
            JSON model
          </button>
        </nav>
      </div>
      <Show when={tab() === 'general'}>
        <section class="panel de-form">
          <label class="de-field de-wide">
            <span>Title</span>
            <input value={d().title ?? ''} onInput={(e) => set({ title: e.currentTarget.value })} data-testid="settings-title" />
          </label>
          <label class="de-field de-wide">
            <span>Description</span>
            <textarea rows={2} value={String(d().description ?? '')} onInput={(e) => set({ description: e.currentTarget.value })} />
          </label>
          <label class="de-field de-wide">
            <span>Tags (comma separated)</span>
            <input value={(d().tags ?? []).join(', ')} onChange={(e) => set({ tags: [...new Set(e.currentTarget.value.split(',').map((t) => t.trim()).filter(Boolean))] })} data-testid="settings-tags" />
          </label>
          <div class="de-field de-wide">
            <span>Folder</span>
            <div class="de-inline-row">
              <select value={props.folderUid} onChange={(e) => props.onFolder(e.currentTarget.value)} data-testid="settings-folder" aria-label="Folder">
                <option value="">Dashboards (no folder)</option>
                <For each={folders()}>{(f) => <option value={f.uid}>{f.title}</option>}</For>
              </select>
              <input value={newFolder()} placeholder="New folder name" onInput={(e) => setNewFolder(e.currentTarget.value)} aria-label="New folder name" data-testid="new-folder-name" />
              <button type="button" disabled={!newFolder().trim()} onClick={() => void makeFolder()} data-testid="new-folder">
                Create folder
              </button>
            </div>
            <Show when={folderError()}>
              <div class="error small" role="alert">
                {folderError()}
              </div>
            </Show>
          </div>
          <label class="de-field">
            <span>Default time range from</span>
            <input value={d().time?.from ?? 'now-6h'} onChange={(e) => set({ time: { from: e.currentTarget.value.trim() || 'now-6h', to: d().time?.to ?? 'now' } })} data-testid="settings-from" />
          </label>
          <label class="de-field">
            <span>to</span>
            <input value={d().time?.to ?? 'now'} onChange={(e) => set({ time: { from: d().time?.from ?? 'now-6h', to: e.currentTarget.value.trim() || 'now' } })} data-testid="settings-to" />
          </label>
          <label class="de-field">
            <span>Auto refresh</span>
            <select value={d().refresh ?? ''} onChange={(e) => set({ refresh: e.currentTarget.value })} data-testid="settings-refresh">
              <For each={REFRESHES}>{(r) => <option value={r}>{r || 'Off'}</option>}</For>
            </select>
          </label>
          <label class="de-field">
            <span>Time zone</span>
            <select value={d().timezone ?? ''} onChange={(e) => set({ timezone: e.currentTarget.value })} data-testid="settings-timezone">
              <option value="">Default</option>
              <option value="browser">Browser time</option>
              <option value="utc">UTC</option>
            </select>
          </label>
        </section>
      </Show>
      <Show when={tab() === 'variables'}>
        <section class="panel de-form">
          <VariablesEditor list={d().templating?.list ?? []} all={props.all} onChange={(list) => set({ templating: { ...d().templating, list } })} />
        </section>
      </Show>
      <Show when={tab() === 'json'}>
        <section class="panel de-form">
          <textarea class="de-json" rows={24} value={json()} onInput={(e) => setJson(e.currentTarget.value)} spellcheck={false} aria-label="Dashboard JSON" data-testid="settings-json-text" />
          <Show when={jsonError()}>
            <div class="error" role="alert">
              {jsonError()}
            </div>
          </Show>
          <div>
            <button type="button" class="primary" onClick={applyJson} data-testid="settings-json-apply">
              Apply JSON
            </button>
          </div>
        </section>
      </Show>
    </div>
  );
}
