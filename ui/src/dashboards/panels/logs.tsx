// The logs panel: the lines its Loki targets return, newest first (or oldest first with
// `sortOrder: Ascending`), with time and wrapping as the panel's options say.
import { createMemo, onMount } from 'solid-js';
import { LogList } from '../../loglist';
import type { PanelProps } from './types';

export default function LogsPanel(props: PanelProps) {
  const rows = createMemo(() => (props.panel.options?.sortOrder === 'Ascending' ? [...props.data.logs].reverse() : props.data.logs));
  onMount(() => requestAnimationFrame(props.onDrawn));
  return (
    <div class="dlogs" data-testid="logs" data-rows={rows().length}>
      <LogList rows={rows()} patterns={[]} wrap={props.panel.options?.wrapLogMessage === true} showTime={props.panel.options?.showTime !== false} height="100%" />
    </div>
  );
}
