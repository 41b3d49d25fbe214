// The receivers tab: each receiver of the built-in notifier with its integrations' delivery counts,
// last attempt, success and error, and "Send test notification" with the server's answer.
import { createSignal, For, onCleanup, onMount, Show } from 'solid-js';
import { loadReceivers, testReceiver, type Receiver } from './api';
import { fmtAbs, fmtAgo, timeMs } from './format';

interface TestResult {
  ok: boolean;
  text: string;
  rows: { type?: string; target?: string; ok?: boolean; error?: string }[];
}

/** The 200 answer as rows, whatever its exact shape: a list, or {results: [...]}, or one object. */
function resultRows(v: unknown): TestResult['rows'] {
  const list = Array.isArray(v) ? v : Array.isArray((v as any)?.results) ? (v as any).results : Array.isArray((v as any)?.integrations) ? (v as any).integrations : null;
  if (!list) return [];
  return list.map((x: any) => ({ type: x?.type, target: x?.target, ok: x?.ok ?? x?.success ?? (x?.error ? false : true), error: x?.error ?? x?.lastError ?? undefined }));
}

export default function Receivers() {
  const [list, setList] = createSignal<Receiver[] | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const [now, setNow] = createSignal(Date.now());
  const [busy, setBusy] = createSignal<string | null>(null);
  const [results, setResults] = createSignal<Record<string, TestResult>>({});

  async function refresh() {
    try {
      setList(await loadReceivers());
      setError(null);
    } catch (e: any) {
      setError(e?.message ?? String(e));
    }
    setNow(Date.now());
  }
  onMount(() => {
    void refresh();
    const t = setInterval(() => void refresh(), 10000);
    onCleanup(() => clearInterval(t));
  });

  async function test(name: string) {
    setBusy(name);
    let r: TestResult;
    try {
      const v = await testReceiver(name);
      const rows = resultRows(v);
      const failed = rows.filter((x) => x.ok === false).length;
      r = { ok: failed === 0, text: failed ? `${failed} of ${rows.length} integrations failed.` : 'Test notification sent.', rows };
    } catch (e: any) {
      r = { ok: false, text: e?.message ?? String(e), rows: [] };
    }
    setResults({ ...results(), [name]: r });
    setBusy(null);
    await refresh();
  }

  return (
    <div class="al-receivers">
      <Show when={error()}>
        <div class="error" role="alert" data-testid="receivers-error">
          {error()}
        </div>
      </Show>
      <Show when={list() === null && !error()}>
        <div class="muted pad">Loading receivers…</div>
      </Show>
      <Show when={list()?.length === 0}>
        <div class="hint" data-testid="no-receivers">
          No receivers. The built-in notifier reads them from the Alertmanager-format file named by <code>alerting.alertmanager_config</code> (webhook, Slack-compatible, e-mail, ntfy, Gotify); with{' '}
          <code>ruler.alertmanager_url</code> alerts go to an Alertmanager instead.
        </div>
      </Show>
      <For each={list() ?? []}>
        {(rc) => (
          <section class="panel" data-testid="receiver" data-receiver={rc.name} aria-label={`Receiver ${rc.name}`}>
            <div class="panel-head">
              <strong>{rc.name}</strong>
              <span class="muted small">
                {rc.integrations.length} integration{rc.integrations.length === 1 ? '' : 's'}
              </span>
              <span class="grow" />
              <button onClick={() => void test(rc.name)} disabled={busy() !== null} data-testid="test-receiver">
                {busy() === rc.name ? 'Sending…' : 'Send test notification'}
              </button>
            </div>
            <Show when={results()[rc.name]}>
              {(r) => (
                <div class={r().ok ? 'al-notice' : 'error'} role={r().ok ? 'status' : 'alert'} data-testid="test-result" data-ok={String(r().ok)}>
                  {r().text}
                  <For each={r().rows}>
                    {(x) => (
                      <div class="small">
                        {x.type} {x.target}: {x.ok === false ? x.error || 'failed' : 'delivered'}
                      </div>
                    )}
                  </For>
                </div>
              )}
            </Show>
            <Show when={rc.integrations.length === 0}>
              <div class="muted small">This receiver has no integrations: its notifications go nowhere.</div>
            </Show>
            <Show when={rc.integrations.length}>
              <div class="table-wrap">
                <table class="al-table" data-testid="integrations">
                  <thead>
                    <tr>
                      <th>Type</th>
                      <th>Target</th>
                      <th>Sent</th>
                      <th>Failed</th>
                      <th>Last attempt</th>
                      <th>Last success</th>
                      <th>Last error</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={rc.integrations}>
                      {(i) => (
                        <tr data-testid="integration" data-type={i.type}>
                          <td>
                            <span class="al-type">{i.type}</span>
                          </td>
                          <td class="mono al-target">{i.target || '—'}</td>
                          <td class="num" data-testid="integration-sent">
                            {i.sent ?? 0}
                          </td>
                          <td class="num" classList={{ bad: (i.failed ?? 0) > 0 }} data-testid="integration-failed">
                            {i.failed ?? 0}
                          </td>
                          <td title={fmtAbs(timeMs(i.lastAttempt))}>{fmtAgo(timeMs(i.lastAttempt), now())}</td>
                          <td title={fmtAbs(timeMs(i.lastSuccess))}>{fmtAgo(timeMs(i.lastSuccess), now())}</td>
                          <td class="al-last-error" data-testid="integration-error">
                            {i.lastError || ''}
                          </td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
            </Show>
          </section>
        )}
      </For>
    </div>
  );
}
