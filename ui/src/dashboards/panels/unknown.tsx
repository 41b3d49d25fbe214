// A panel type this viewer does not draw: a clear placeholder naming it, never a blank box.
import { onMount } from 'solid-js';
import type { PanelProps } from './types';

export default function UnknownPanel(props: PanelProps) {
  onMount(() => requestAnimationFrame(props.onDrawn));
  return (
    <div class="unknown-panel" data-testid="unknown-panel" role="note">
      <strong>Unsupported panel type “{props.panel.type}”</strong>
      <span class="muted small">Bitácora draws timeseries, barchart, stat, gauge, bargauge, table, logs and text panels. This panel's queries and settings are kept in the dashboard.</span>
    </div>
  );
}
