// The switch that shows or hides deploy and crash markers on every chart (remembered), with how
// many of each the range holds.
import type { Marker } from './events';
import { markersOn, setMarkersOn } from './events';
import './markers.css';

export function MarkersToggle(props: { markers?: Marker[] }) {
  const n = (kind: Marker['kind']) => (props.markers && markersOn() ? ` ${props.markers.filter((m) => m.kind === kind).length}` : '');
  return (
    <label class="inline markers-toggle small" title="Deploy (solid) and crash (dashed) markers from the recorded container events">
      <input type="checkbox" checked={markersOn()} onChange={(e) => setMarkersOn(e.currentTarget.checked)} data-testid="markers-toggle" />
      <i style={{ background: 'var(--marker-deploy)' }} />
      deploys{n('deploy')}
      <i style={{ background: 'var(--marker-crash)' }} />
      crashes{n('crash')}
    </label>
  );
}
