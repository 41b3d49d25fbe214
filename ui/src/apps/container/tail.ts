// One live tail over Loki's WebSocket API (`/loki/api/v1/tail`): history since `start`, then
// every new entry; reconnects after a drop without sending the history twice.
import { flattenStreams, type LogRow } from '../../api';

export interface TailHandle {
  close(): void;
}

const nsPlusOne = (ns: string) => (BigInt(ns) + 1n).toString();

export function openTail(query: string, opts: { startNs: string; limit: number }, onRows: (rows: LogRow[]) => void, onStatus: (s: string) => void): TailHandle {
  let ws: WebSocket | undefined;
  let retry: number | undefined;
  let closed = false;
  let lastNs = '';

  function connect(attempt: number) {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const start = lastNs ? nsPlusOne(lastNs) : opts.startNs;
    const p = new URLSearchParams({ query, limit: String(opts.limit), start });
    onStatus(attempt ? 'Reconnecting…' : 'Connecting…');
    const sock = (ws = new WebSocket(`${proto}://${location.host}/loki/api/v1/tail?${p}`));
    sock.onopen = () => {
      onStatus('Live');
      attempt = 0;
    };
    sock.onmessage = (ev) => {
      let msg: any;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      // Without categorized labels the server merges structured metadata (container_id,
      // detected_level) into the stream labels: fine here, the view reads `stream` only.
      const rows = flattenStreams(msg.streams ?? []);
      for (const r of rows) if (r.ts.length > lastNs.length || (r.ts.length === lastNs.length && r.ts > lastNs)) lastNs = r.ts;
      if (msg.dropped_entries?.length) onStatus(`Live · the server dropped ${msg.dropped_entries.length} lines (too slow)`);
      if (rows.length) onRows(rows);
    };
    sock.onclose = (ev) => {
      if (ws !== sock || closed) return;
      const why = ev.reason || (ev.code === 1006 ? 'connection lost' : `code ${ev.code}`);
      if (attempt < 30) {
        onStatus(`Disconnected (${why}); reconnecting in 5 s…`);
        retry = window.setTimeout(() => connect(attempt + 1), 5000);
      } else onStatus(`Disconnected (${why}).`);
    };
  }
  connect(0);
  return {
    close() {
      closed = true;
      if (retry) clearTimeout(retry);
      ws?.close();
      ws = undefined;
    },
  };
}
