// Edit mode of a dashboard: the toolbar (add a panel or a row, settings, versions, export, save,
// discard, exit) over the editable grid, and the panel editor, settings and version history in
// its place when the URL says so (`editPanel=<id>`, `editview=settings|versions`). Changes live in
// a draft until saved; leaving with unsaved changes asks first.
import { createMemo, createResource, createSignal, Match, on, Show, Switch, type JSX } from 'solid-js';
import { navigate, search } from '../../router';
import { listDataSources, loadDashboard, slugify, type Loaded, type Saved } from './api';
import { takePendingPanel } from './addtodash';
import { createDraft } from './draft';
import { EditGrid } from './grid';
import { History } from './history';
import { addPanel, addRow, duplicatePanel, movePanel, removePanel, resizePanel, toggleRow } from './layout';
import { PanelEditor } from './panel';
import { SaveDialog } from './save';
import { Settings } from './settings';
import { ExportDialog } from './exportdialog';
import type { DataSource, Panel } from './shape';
import { dashRange, livePanels } from './preview';
import { VariablePickers } from '../pickers';
import { createVariables, urlValues } from '../variables';
import type { DataSource as ViewDataSource } from '../datasources';
import type { Variable } from '../model';
import './edit.css';

export type RenderPanel = (p: () => Panel, size: () => { width: number; height: number }) => JSX.Element;

/** The URL of a dashboard (or its editor with extra parameters). */
export function dashUrl(uid: string, title: string, params: Record<string, string> = {}) {
  const q = new URLSearchParams(params).toString();
  return `/d/${encodeURIComponent(uid)}/${slugify(title)}${q ? `?${q}` : ''}`;
}

/** Without `renderPanel`, panels are drawn live (the viewer's components, the draft's variables). */
export function DashboardEditor(props: { loaded: Loaded; isNew?: boolean; renderPanel?: RenderPanel; onExit: (latest: Loaded) => void }) {
  const draft = createDraft(props.loaded.dashboard, props.loaded.meta);
  // A panel sent from Explore ("Add to dashboard") joins the draft, unsaved.
  const pending = takePendingPanel(props.loaded.dashboard.uid ?? '');
  if (pending) draft.setPanels((ps) => addPanel(ps, pending).panels);
  const [folderUid, setFolderUid] = createSignal(String(props.loaded.meta.folderUid ?? ''));
  const [all] = createResource<DataSource[]>(() => listDataSources().catch(() => []), { initialValue: [] });
  const [saving, setSaving] = createSignal(false);
  const [exporting, setExporting] = createSignal(false);
  const [confirmDiscard, setConfirmDiscard] = createSignal(false);
  const [notice, setNotice] = createSignal('');
  const params = createMemo(() => new URLSearchParams(search()));
  const editPanelId = () => (params().get('editPanel') ? Number(params().get('editPanel')) : null);
  const view = () => params().get('editview');
  const readOnly = () => !!draft.meta().provisioned && draft.meta().canSave === false;
  const isNew = () => !!props.isNew && !draft.dash().uid;
  // The draft's variables, with pickers, made again when their definitions change; the URL's
  // var-x values win at first, as in the viewer.
  const range = dashRange(draft.dash);
  const templating = createMemo(() => JSON.stringify(draft.dash().templating?.list ?? []));
  const vset = createMemo(
    on([templating, all], ([list, ds]) => {
      const s = createVariables(JSON.parse(list) as Variable[], { datasources: ds as unknown as ViewDataSource[], range, fromUrl: urlValues(location.search) });
      void s.init();
      return s;
    }),
  );
  const renderPanel: RenderPanel = props.renderPanel ?? livePanels(draft.dash, () => vset().vars());
  const pickers = () => (
    <Show when={vset().states().length}>
      <VariablePickers set={vset()} />
    </Show>
  );

  /** Sets the editor's URL parameters on the current path (no leave check: same dashboard). */
  const goto = (p: Record<string, string>) => {
    const u = new URLSearchParams(search());
    for (const k of ['editPanel', 'editview']) u.delete(k);
    u.set('edit', '1');
    for (const [k, v] of Object.entries(p)) u.set(k, v);
    navigate(`${location.pathname}?${u}`, { force: true });
  };
  const back = () => goto({});

  const editingPanel = createMemo(() => {
    const id = editPanelId();
    if (id === null) return null;
    const find = (ps: Panel[]): Panel | undefined => {
      for (const p of ps) {
        if (p.id === id) return p;
        const c = p.panels && find(p.panels);
        if (c) return c;
      }
    };
    return find(draft.dash().panels ?? []) ?? null;
  });

  const applyPanel = (np: Panel) => {
    const put = (ps: Panel[]): Panel[] => ps.map((p) => (p.id === np.id ? np : p.panels?.length ? { ...p, panels: put(p.panels) } : p));
    draft.setPanels(put);
    back();
  };

  const defaultDs = () => all().find((d) => d.isDefault) ?? all()[0];
  const newPanel = () => {
    const ds = defaultDs();
    const ref = ds ? { type: ds.type, uid: ds.uid } : undefined;
    let id = 0;
    draft.setPanels((ps) => {
      const r = addPanel(ps, { type: 'timeseries', title: 'Panel Title', datasource: ref, targets: [{ refId: 'A', expr: '', ...(ref ? { datasource: ref } : {}) }], fieldConfig: { defaults: {}, overrides: [] }, options: {} });
      id = r.id;
      return r.panels;
    });
    goto({ editPanel: String(id) });
  };

  const onSaved = async (s: Saved) => {
    setSaving(false);
    setNotice(`Saved as version ${s.version}.`);
    try {
      const latest = await loadDashboard(s.uid);
      draft.rebase(latest.dashboard, latest.meta);
      if (location.pathname.split('/')[2] !== s.uid) navigate(dashUrl(s.uid, latest.dashboard.title, { edit: '1' }), { force: true, replace: true });
    } catch (e: any) {
      setNotice(`Saved as version ${s.version}, but reading it back failed: ${e?.message ?? e}`);
    }
  };

  const exit = () => props.onExit({ dashboard: draft.saved(), meta: draft.meta() });
  const discard = () => {
    if (!draft.dirty()) return exit();
    setConfirmDiscard(true);
  };

  const actions = {
    move: (id: number, x: number, y: number) => draft.setPanels((ps) => movePanel(ps, id, x, y)),
    resize: (id: number, w: number, h: number) => draft.setPanels((ps) => resizePanel(ps, id, w, h)),
    edit: (id: number) => goto({ editPanel: String(id) }),
    duplicate: (id: number) => draft.setPanels((ps) => duplicatePanel(ps, id).panels),
    remove: (id: number) => draft.setPanels((ps) => removePanel(ps, id)),
    toggleRow: (id: number) => draft.setPanels((ps) => toggleRow(ps, id)),
    renameRow: (id: number, title: string) => draft.setPanels((ps) => ps.map((p) => (p.id === id ? { ...p, title } : p))),
  };

  return (
    <div class="de-editor" data-testid="dashboard-editor" data-dirty={draft.dirty() ? '1' : '0'}>
      <Switch>
        <Match when={editPanelId() !== null && editingPanel()}>
          {(p) => (
            <>
              {pickers()}
              <PanelEditor panel={p()} all={all()} renderPanel={renderPanel} onApply={applyPanel} onDiscard={back} />
            </>
          )}
        </Match>
        <Match when={view() === 'settings'}>
          <Settings dash={draft.dash()} folderUid={folderUid()} all={all()} onChange={draft.set} onFolder={setFolderUid} onClose={back} />
        </Match>
        <Match when={view() === 'versions' && draft.dash().uid}>
          <History
            uid={draft.dash().uid!}
            current={draft.meta().version ?? draft.dash().version}
            dirty={draft.dirty()}
            onClose={back}
            onRestored={(s) => {
              back();
              void onSaved(s).then(() => setNotice(`Restored: the dashboard is now version ${s.version}.`));
            }}
          />
        </Match>
        <Match when={true}>
          <div class="de-toolbar" role="toolbar" aria-label="Dashboard editing">
            <strong class="de-dash-title">{draft.dash().title || 'New dashboard'}</strong>
            <Show when={draft.dirty()}>
              <span class="de-badge" data-testid="dirty">Unsaved changes</span>
            </Show>
            <span class="grow" />
            <button type="button" onClick={newPanel} data-testid="add-panel">
              + Panel
            </button>
            <button type="button" onClick={() => draft.setPanels((ps) => addRow(ps).panels)} data-testid="add-row">
              + Row
            </button>
            <button type="button" onClick={() => goto({ editview: 'settings' })} data-testid="open-settings">
              Settings
            </button>
            <Show when={draft.dash().uid && !isNew()}>
              <button type="button" onClick={() => goto({ editview: 'versions' })} data-testid="open-versions">
                Versions
              </button>
            </Show>
            <button type="button" onClick={() => setExporting(true)} data-testid="open-export">
              Export
            </button>
            <button type="button" onClick={discard} data-testid="discard">
              {draft.dirty() ? 'Discard' : 'Exit edit'}
            </button>
            <button type="button" class="primary" onClick={() => setSaving(true)} data-testid="save">
              Save
            </button>
          </div>
          <Show when={readOnly()}>
            <div class="de-note" role="note" data-testid="provisioned-note">
              This dashboard is provisioned from a file and cannot be saved here. Your changes can be saved as a copy, or exported and put in the provisioning file.
            </div>
          </Show>
          <Show when={notice()}>
            <div class="de-note" role="status" data-testid="notice">
              {notice()}
            </div>
          </Show>
          <Show when={!(draft.dash().panels ?? []).length}>
            <div class="de-empty panel">
              <p>This dashboard has no panels yet.</p>
              <button type="button" class="primary" onClick={newPanel} data-testid="empty-add-panel">
                + Add a visualization
              </button>
            </div>
          </Show>
          {pickers()}
          <EditGrid panels={draft.dash().panels ?? []} actions={actions} renderPanel={renderPanel} />
        </Match>
      </Switch>
      <Show when={saving()}>
        <SaveDialog dash={draft.dash()} folderUid={folderUid()} readOnly={readOnly()} isNew={isNew()} onSaved={(s) => void onSaved(s)} onClose={() => setSaving(false)} />
      </Show>
      <Show when={exporting()}>
        <ExportDialog dash={draft.dash()} onClose={() => setExporting(false)} />
      </Show>
      <Show when={confirmDiscard()}>
        <div class="de-modal-back">
          <div class="de-modal panel" role="alertdialog" aria-modal="true" aria-labelledby="de-discard-title" data-testid="discard-dialog">
            <h2 id="de-discard-title">Discard unsaved changes?</h2>
            <p>The changes made since the last save will be lost.</p>
            <div class="de-modal-foot">
              <button type="button" onClick={() => setConfirmDiscard(false)} data-testid="discard-cancel">
                Keep editing
              </button>
              <button
                type="button"
                class="danger"
                onClick={() => {
                  setConfirmDiscard(false);
                  draft.discard();
                  exit();
                }}
                data-testid="discard-confirm"
              >
                Discard
              </button>
            </div>
          </div>
        </div>
      </Show>
    </div>
  );
}
