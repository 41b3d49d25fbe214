// Version history: every saved version with who, when and the message; view one as JSON, compare
// two (a line diff of their JSON), restore one (a new version with its content).
import { createResource, createSignal, For, Show } from 'solid-js';
import { getVersion, listVersions, restoreVersion, type Saved } from './api';
import { canonical, diffLines, type DiffLine } from './diff';

export function History(props: { uid: string; current?: number; dirty: boolean; onRestored: (s: Saved) => void; onClose: () => void }) {
  const [versions, { refetch }] = createResource(() => props.uid, listVersions);
  const [picked, setPicked] = createSignal<number[]>([]);
  const [diff, setDiff] = createSignal<{ a: number; b: number; lines: DiffLine[] | null } | null>(null);
  const [viewing, setViewing] = createSignal<{ v: number; text: string } | null>(null);
  const [confirm, setConfirm] = createSignal<number | null>(null);
  const [error, setError] = createSignal('');

  const toggle = (v: number, on: boolean) => setPicked((p) => (on ? [...p.filter((x) => x !== v), v].slice(-2) : p.filter((x) => x !== v)));
  const compare = async () => {
    const [a, b] = [...picked()].sort((x, y) => x - y);
    setError('');
    try {
      const [da, db] = await Promise.all([getVersion(props.uid, a), getVersion(props.uid, b)]);
      setViewing(null);
      setDiff({ a, b, lines: diffLines(canonical(da), canonical(db)) });
    } catch (e: any) {
      setError(e?.message ?? String(e));
    }
  };
  const view = async (v: number) => {
    try {
      setDiff(null);
      setViewing({ v, text: JSON.stringify(await getVersion(props.uid, v), null, 2) });
    } catch (e: any) {
      setError(e?.message ?? String(e));
    }
  };
  const restore = async (v: number) => {
    setError('');
    try {
      const s = await restoreVersion(props.uid, v);
      setConfirm(null);
      await refetch();
      props.onRestored(s);
    } catch (e: any) {
      setError(e?.message ?? String(e));
    }
  };

  return (
    <div class="de-history" data-testid="version-history">
      <div class="de-pe-bar">
        <button type="button" class="primary" onClick={props.onClose} data-testid="history-close">
          ← Back to dashboard
        </button>
        <strong>Versions</strong>
        <span class="grow" />
        <button type="button" disabled={picked().length !== 2} onClick={() => void compare()} data-testid="history-compare">
          Compare the two checked versions
        </button>
      </div>
      <Show when={error()}>
        <div class="error" role="alert">
          {error()}
        </div>
      </Show>
      <Show when={versions.error}>
        <div class="error" role="alert">
          {String(versions.error?.message ?? versions.error)}
        </div>
      </Show>
      <section class="panel">
        <div class="table-wrap">
          <table class="de-versions">
            <thead>
              <tr>
                <th>
                  <span class="sr">Compare</span>
                </th>
                <th>Version</th>
                <th>Date</th>
                <th>By</th>
                <th>Message</th>
                <th />
              </tr>
            </thead>
            <tbody>
              <For each={versions() ?? []}>
                {(v) => (
                  <tr data-testid="version-row" data-version={v.version}>
                    <td>
                      <input type="checkbox" checked={picked().includes(v.version)} onChange={(e) => toggle(v.version, e.currentTarget.checked)} aria-label={`Compare version ${v.version}`} data-testid="version-pick" />
                    </td>
                    <td>
                      {v.version}
                      <Show when={v.version === props.current}>
                        <span class="de-badge">Latest</span>
                      </Show>
                    </td>
                    <td class="small">{new Date(v.created).toLocaleString()}</td>
                    <td class="small">{v.createdBy ?? ''}</td>
                    <td data-testid="version-message">{v.message ?? ''}</td>
                    <td class="de-actions">
                      <button type="button" onClick={() => void view(v.version)} data-testid="version-view">
                        View JSON
                      </button>
                      <Show when={v.version !== props.current}>
                        <Show
                          when={confirm() === v.version}
                          fallback={
                            <button type="button" onClick={() => setConfirm(v.version)} data-testid="version-restore">
                              Restore
                            </button>
                          }
                        >
                          <span class="small">{props.dirty ? 'Your unsaved changes will be lost. ' : ''}Restore version {v.version}?</span>
                          <button type="button" class="primary" onClick={() => void restore(v.version)} data-testid="version-restore-confirm">
                            Yes, restore
                          </button>
                          <button type="button" onClick={() => setConfirm(null)}>
                            Cancel
                          </button>
                        </Show>
                      </Show>
                    </td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </div>
      </section>
      <Show when={diff()}>
        {(d) => (
          <section class="panel" data-testid="version-diff">
            <div class="panel-head">
              <strong>
                Version {d().a} → version {d().b}
              </strong>
              <span class="muted small">{d().lines ? `${d().lines!.filter((l) => l.op !== ' ').length} lines differ` : ''}</span>
            </div>
            <Show when={d().lines} fallback={<p class="muted pad">The versions differ too much to show line by line.</p>}>
              <pre class="de-diff">
                <For each={d().lines!}>{(l) => <div class={l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'same'}>{`${l.op} ${l.text}`}</div>}</For>
              </pre>
            </Show>
          </section>
        )}
      </Show>
      <Show when={viewing()}>
        {(v) => (
          <section class="panel" data-testid="version-json">
            <div class="panel-head">
              <strong>Version {v().v}</strong>
            </div>
            <pre class="de-diff">{v().text}</pre>
          </section>
        )}
      </Show>
    </div>
  );
}
