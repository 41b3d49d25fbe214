// Export: the dashboard's JSON to download or copy; "Export for sharing externally" replaces the
// data sources with `${DS_...}` inputs, as Grafana does, so another install can map its own.
import { createMemo, createResource, createSignal, Show } from 'solid-js';
import { listDataSources, slugify } from './api';
import { externalize } from './share';
import type { Dashboard } from './shape';

export function ExportDialog(props: { dash: Dashboard; onClose: () => void }) {
  const [external, setExternal] = createSignal(false);
  const [all] = createResource(listDataSources, { initialValue: [] });
  const [copied, setCopied] = createSignal(false);
  const text = createMemo(() => JSON.stringify(external() ? externalize(props.dash, all()) : props.dash, null, 2));
  const download = () => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text()], { type: 'application/json' }));
    a.download = `${slugify(props.dash.title)}-${Date.now()}.json`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text());
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {}
  };
  return (
    <div class="de-modal-back" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="de-modal de-modal-wide panel" role="dialog" aria-modal="true" aria-labelledby="de-export-title" data-testid="export-dialog" onKeyDown={(e) => e.key === 'Escape' && props.onClose()}>
        <h2 id="de-export-title">Export {props.dash.title}</h2>
        <label class="de-check">
          <input type="checkbox" checked={external()} onChange={(e) => setExternal(e.currentTarget.checked)} data-testid="export-external" />
          Export for sharing externally (data sources become inputs chosen on import)
        </label>
        <textarea class="de-json" rows={16} readOnly value={text()} aria-label="Dashboard JSON" data-testid="export-json" />
        <div class="de-modal-foot">
          <button type="button" onClick={props.onClose}>
            Close
          </button>
          <button type="button" onClick={() => void copy()} data-testid="export-copy">
            <Show when={copied()} fallback="Copy to clipboard">
              Copied
            </Show>
          </button>
          <button type="button" class="primary" onClick={download} data-testid="export-download">
            Download JSON file
          </button>
        </div>
      </div>
    </div>
  );
}
