// The ready-made rules (GET /api/alerting/templates): each template's groups are posted to the
// ruler under the template's namespace; a group already there is shown as installed.
import { createResource, createSignal, For, Show } from 'solid-js';
import { loadTemplates, postGroup, templateGroups, type PromGroup, type Template } from './api';

interface Result {
  ok: boolean;
  text: string;
}

export function Templates(props: { groups: PromGroup[]; onClose: () => void; onInstalled: () => void }) {
  const [templates] = createResource(loadTemplates);
  const [busy, setBusy] = createSignal<string | null>(null);
  const [results, setResults] = createSignal<Record<string, Result>>({});

  const parsed = (t: Template) => {
    try {
      return { groups: templateGroups(t.yaml), error: null };
    } catch (e: any) {
      return { groups: [], error: `The template's YAML does not parse: ${e?.message ?? e}` };
    }
  };
  const installed = (t: Template) => {
    const names = parsed(t).groups.map((g) => g.name);
    return names.length > 0 && names.every((n) => props.groups.some((g) => g.file === t.namespace && g.name === n));
  };

  async function install(t: Template) {
    setBusy(t.name);
    const { groups, error } = parsed(t);
    let res: Result;
    if (error || !groups.length) res = { ok: false, text: error ?? 'The template has no rule groups.' };
    else {
      try {
        for (const g of groups) await postGroup(t.namespace, g);
        res = { ok: true, text: `Installed ${groups.length} group${groups.length === 1 ? '' : 's'} (${groups.map((g) => g.name).join(', ')}) in namespace ${t.namespace}.` };
      } catch (e: any) {
        res = { ok: false, text: e?.message ?? String(e) };
      }
    }
    setResults({ ...results(), [t.name]: res });
    setBusy(null);
    props.onInstalled();
  }

  return (
    <section class="panel al-templates" aria-label="Ready-made rules" data-testid="templates">
      <div class="panel-head">
        <strong>Ready-made rules</strong>
        <span class="muted small">for Dokku hosts; off until installed here, edit or delete them like any rule</span>
        <button class="icon close" onClick={props.onClose} aria-label="Close ready-made rules">
          ✕
        </button>
      </div>
      <Show when={templates.loading}>
        <div class="muted">Loading…</div>
      </Show>
      <Show when={templates.error}>
        <div class="error" role="alert">
          {templates.error?.message ?? String(templates.error)}
        </div>
      </Show>
      <Show when={templates() && templates()!.length === 0}>
        <div class="muted">The server offers no ready-made rules.</div>
      </Show>
      <For each={templates() ?? []}>
        {(t) => (
          <div class="al-template" data-testid="template" data-template={t.name}>
            <div class="al-template-head">
              <strong>{t.name}</strong>
              <span class="muted small">namespace {t.namespace}</span>
              <Show when={installed(t)}>
                <span class="al-state al-inactive small" data-testid="template-installed">
                  installed
                </span>
              </Show>
              <span class="grow" />
              <button class={installed(t) ? '' : 'primary'} disabled={busy() !== null} onClick={() => install(t)} data-testid="install-template">
                {busy() === t.name ? 'Installing…' : installed(t) ? 'Install again' : 'Install'}
              </button>
            </div>
            <p class="small">{t.description}</p>
            <details>
              <summary class="small muted">YAML</summary>
              <pre class="al-yaml">{t.yaml}</pre>
            </details>
            <Show when={results()[t.name]}>
              {(r) => (
                <div class={r().ok ? 'al-notice' : 'error'} role={r().ok ? 'status' : 'alert'} data-testid="template-result">
                  {r().text}
                </div>
              )}
            </Show>
          </div>
        )}
      </For>
    </section>
  );
}
