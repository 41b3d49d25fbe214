// The save dialog: a message for the version history, then POST /api/dashboards/db. A refusal
// the user can decide on is shown as such: someone saved a newer version, or a dashboard of the
// same name lives in the folder ("Save and overwrite" is an explicit second step); a provisioned
// dashboard cannot be saved here, but can be saved as a copy.
import { createSignal, Show } from 'solid-js';
import { saveDashboard, SaveConflict, type Saved } from './api';
import { newUid } from './share';
import type { Dashboard } from './shape';

const HEADINGS: Record<string, string> = {
  'version-mismatch': 'Someone else has updated this dashboard',
  'name-exists': 'A dashboard with the same name in the folder already exists',
  provisioned: 'Cannot save provisioned dashboard',
  'plugin-dashboard': 'Plugin dashboard',
};

export function SaveDialog(props: { dash: Dashboard; folderUid: string; readOnly: boolean; isNew: boolean; onSaved: (s: Saved, d: Dashboard) => void; onClose: () => void }) {
  const [message, setMessage] = createSignal('');
  const [busy, setBusy] = createSignal(false);
  const [conflict, setConflict] = createSignal<SaveConflict | null>(props.readOnly ? new SaveConflict('provisioned', 'This dashboard is provisioned from a file and is read-only here. Change the file, or save a copy.') : null);
  const [error, setError] = createSignal('');
  const [copyTitle, setCopyTitle] = createSignal(`${props.dash.title} Copy`);
  const [title, setTitle] = createSignal(props.dash.title);

  const save = async (overwrite: boolean, copy = false) => {
    setBusy(true);
    setError('');
    let d: Dashboard = { ...props.dash, title: props.isNew ? title() : props.dash.title };
    if (copy) d = { ...d, uid: newUid(), title: copyTitle().trim() || `${d.title} Copy`, id: null, version: 0 };
    try {
      const s = await saveDashboard(d, { message: message(), overwrite, folderUid: props.folderUid || undefined });
      props.onSaved(s, { ...d, uid: s.uid, version: s.version });
    } catch (e: any) {
      if (e instanceof SaveConflict) setConflict(e);
      else setError(e?.message ?? String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="de-modal-back" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="de-modal panel" role="dialog" aria-modal="true" aria-labelledby="de-save-title" data-testid="save-dialog" onKeyDown={(e) => e.key === 'Escape' && props.onClose()}>
        <h2 id="de-save-title">{conflict() ? HEADINGS[conflict()!.kind] ?? 'The dashboard was not saved' : props.isNew ? 'Save the new dashboard' : 'Save dashboard'}</h2>
        <Show
          when={conflict()}
          fallback={
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void save(false);
              }}
            >
              <Show when={props.isNew}>
                <label class="de-field de-wide">
                  <span>Title</span>
                  <input value={title()} onInput={(e) => setTitle(e.currentTarget.value)} required data-testid="save-title" />
                </label>
              </Show>
              <label class="de-field de-wide">
                <span>Message (for the version history)</span>
                <textarea rows={3} value={message()} onInput={(e) => setMessage(e.currentTarget.value)} placeholder="What changed" data-testid="save-message" autofocus />
              </label>
              <Show when={error()}>
                <div class="error" role="alert" data-testid="save-error">
                  {error()}
                </div>
              </Show>
              <div class="de-modal-foot">
                <button type="button" onClick={props.onClose}>
                  Cancel
                </button>
                <button type="submit" class="primary" disabled={busy()} data-testid="save-confirm">
                  {busy() ? 'Saving…' : 'Save'}
                </button>
              </div>
            </form>
          }
        >
          {(c) => (
            <div data-testid="save-conflict" data-kind={c().kind}>
              <p>{c().message}</p>
              <Show
                when={c().kind === 'provisioned' || c().kind === 'plugin-dashboard'}
                fallback={
                  <>
                    <p>Would you still like to save this dashboard? Saving replaces the other version.</p>
                    <div class="de-modal-foot">
                      <button type="button" onClick={props.onClose} data-testid="conflict-cancel">
                        Cancel
                      </button>
                      <button type="button" class="danger" disabled={busy()} onClick={() => void save(true)} data-testid="save-overwrite">
                        Save and overwrite
                      </button>
                    </div>
                  </>
                }
              >
                <label class="de-field de-wide">
                  <span>Title of the copy</span>
                  <input value={copyTitle()} onInput={(e) => setCopyTitle(e.currentTarget.value)} data-testid="copy-title" />
                </label>
                <Show when={error()}>
                  <div class="error" role="alert">
                    {error()}
                  </div>
                </Show>
                <div class="de-modal-foot">
                  <button type="button" onClick={props.onClose}>
                    Cancel
                  </button>
                  <button type="button" class="primary" disabled={busy()} onClick={() => void save(false, true)} data-testid="save-copy">
                    Save as copy
                  </button>
                </div>
              </Show>
            </div>
          )}
        </Show>
      </div>
    </div>
  );
}
