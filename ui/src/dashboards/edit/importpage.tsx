// Import (/dashboards/import): paste a dashboard's JSON or upload its file, map each data source
// input of an exported dashboard (`__inputs`) to one of ours, choose folder, title and uid (a new
// uid when one is taken), then save it. A conflict the server answers (412) can be overwritten.
import { createEffect, createResource, createSignal, For, Show } from 'solid-js';
import { navigate } from '../../router';
import { apiGet } from '../../api';
import { listDataSources, listFolders, saveDashboard, SaveConflict } from './api';
import { dashUrl } from './editor';
import { applyInputs, importInputs, newUid, parseDashboard } from './share';
import type { Dashboard } from './shape';
import './edit.css';

export default function ImportPage() {
  const [text, setText] = createSignal('');
  const [parsed, setParsed] = createSignal<Dashboard | null>(null);
  const [parseError, setParseError] = createSignal('');
  const [answers, setAnswers] = createSignal<Record<string, string>>({});
  const [title, setTitle] = createSignal('');
  const [uid, setUid] = createSignal('');
  const [folderUid, setFolderUid] = createSignal('');
  const [error, setError] = createSignal('');
  const [conflict, setConflict] = createSignal<SaveConflict | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [all] = createResource(() => listDataSources().catch(() => []), { initialValue: [] });
  const [folders] = createResource(listFolders, { initialValue: [] });
  // Asked through search (an empty answer, not a 404, when the uid is free).
  const [taken] = createResource(uid, async (u) => {
    if (!u) return null;
    try {
      const hits: { uid: string; title: string }[] = await apiGet('/api/search', { dashboardUIDs: u, type: 'dash-db' });
      return hits.find((h) => h.uid === u)?.title ?? null;
    } catch {
      return null;
    }
  });

  const load = (t: string) => {
    setText(t);
    setConflict(null);
    setError('');
    const r = parseDashboard(t);
    if (typeof r === 'string') {
      setParsed(null);
      return setParseError(r);
    }
    setParseError('');
    setParsed(r);
    setTitle(r.title ?? 'Imported dashboard');
    setUid(typeof r.uid === 'string' ? r.uid : '');
    const a: Record<string, string> = {};
    for (const i of importInputs(r)) a[i.name] = i.type === 'constant' ? String(i.value ?? '') : '';
    setAnswers(a);
  };
  // Each data source input starts on the first data source of its type (the default one first).
  createEffect(() => {
    const p = parsed();
    if (!p) return;
    const a = { ...answers() };
    let changed = false;
    for (const i of importInputs(p))
      if (i.type === 'datasource' && !a[i.name]) {
        const c = [...all()].sort((x, y) => Number(!!y.isDefault) - Number(!!x.isDefault)).find((d) => d.type === i.pluginId);
        if (c) (a[i.name] = c.uid), (changed = true);
      }
    if (changed) setAnswers(a);
  });

  const upload = async (f: File | undefined) => {
    if (f) load(await f.text());
  };

  const submit = async (overwrite: boolean) => {
    const p = parsed();
    if (!p) return;
    const missing = importInputs(p).find((i) => i.type === 'datasource' && !answers()[i.name]);
    if (missing) return setError(`Choose a data source for ${missing.label ?? missing.name} (${missing.pluginId}).`);
    if (!title().trim()) return setError('Give the dashboard a title.');
    setBusy(true);
    setError('');
    try {
      const d: Dashboard = { ...applyInputs(p, answers()), title: title().trim(), uid: uid().trim() || newUid(), id: null };
      delete d.version;
      const s = await saveDashboard(d, { overwrite, folderUid: folderUid() || undefined, message: 'Imported' });
      navigate(dashUrl(s.uid, d.title));
    } catch (e: any) {
      if (e instanceof SaveConflict) setConflict(e);
      else setError(e?.message ?? String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="de-import" data-testid="import-page">
      <h1>Import a dashboard</h1>
      <section class="panel de-form">
        <label class="de-field de-wide">
          <span>Upload a dashboard JSON file</span>
          <input type="file" accept=".json,application/json" onChange={(e) => void upload(e.currentTarget.files?.[0])} data-testid="import-file" />
        </label>
        <label class="de-field de-wide">
          <span>Or paste the dashboard's JSON</span>
          <textarea class="de-json" rows={10} value={text()} onInput={(e) => load(e.currentTarget.value)} spellcheck={false} placeholder='{"title": "…", "panels": [ … ]}' data-testid="import-json" />
        </label>
        <Show when={parseError() && text().trim()}>
          <div class="error" role="alert" data-testid="import-parse-error">
            {parseError()}
          </div>
        </Show>
      </section>
      <Show when={parsed()}>
        {(p) => (
          <section class="panel de-form" data-testid="import-options">
            <h2>Options</h2>
            <label class="de-field de-wide">
              <span>Title</span>
              <input value={title()} onInput={(e) => setTitle(e.currentTarget.value)} data-testid="import-title" />
            </label>
            <label class="de-field">
              <span>Folder</span>
              <select value={folderUid()} onChange={(e) => setFolderUid(e.currentTarget.value)} data-testid="import-folder">
                <option value="">Dashboards (no folder)</option>
                <For each={folders()}>{(f) => <option value={f.uid}>{f.title}</option>}</For>
              </select>
            </label>
            <div class="de-field de-wide">
              <span>Unique identifier (uid)</span>
              <div class="de-inline-row">
                <input value={uid()} onInput={(e) => setUid(e.currentTarget.value)} placeholder="made up when empty" data-testid="import-uid" aria-label="uid" />
                <button type="button" onClick={() => setUid(newUid())} data-testid="import-new-uid">
                  Change uid
                </button>
              </div>
              <Show when={taken()}>
                <small class="warn" data-testid="import-uid-taken">
                  A dashboard with this uid exists already ({taken()}): importing replaces it unless you change the uid.
                </small>
              </Show>
            </div>
            <For each={importInputs(p())}>
              {(i) => (
                <label class="de-field de-wide">
                  <span>
                    {i.label ?? i.name} <small class="muted">{i.type === 'datasource' ? `data source (${i.pluginName ?? i.pluginId})` : 'constant'}</small>
                  </span>
                  <Show
                    when={i.type === 'datasource'}
                    fallback={<input value={answers()[i.name] ?? ''} onInput={(e) => setAnswers({ ...answers(), [i.name]: e.currentTarget.value })} data-testid="import-constant" />}
                  >
                    <select value={answers()[i.name] ?? ''} onChange={(e) => setAnswers({ ...answers(), [i.name]: e.currentTarget.value })} data-testid="import-ds" data-input={i.name}>
                      <option value="">Choose a {i.pluginName ?? i.pluginId} data source</option>
                      <For each={all().filter((d) => d.type === i.pluginId)}>{(d) => <option value={d.uid}>{d.name}</option>}</For>
                    </select>
                  </Show>
                </label>
              )}
            </For>
            <Show when={error()}>
              <div class="error" role="alert" data-testid="import-error">
                {error()}
              </div>
            </Show>
            <Show when={conflict()}>
              {(c) => (
                <div class="de-note" role="alert" data-testid="import-conflict">
                  <p>{c().message}</p>
                  <p>Change the title or the uid above, or replace the existing dashboard.</p>
                  <button type="button" class="danger" disabled={busy()} onClick={() => void submit(true)} data-testid="import-overwrite">
                    Import (overwrite)
                  </button>
                </div>
              )}
            </Show>
            <div>
              <button type="button" class="primary" disabled={busy()} onClick={() => void submit(!!taken())} data-testid="import-submit">
                {taken() ? 'Import (replace the existing one)' : 'Import'}
              </button>
            </div>
          </section>
        )}
      </Show>
    </div>
  );
}
