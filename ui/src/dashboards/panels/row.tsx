// A row: the full-width header of a group of panels, folding and unfolding them.
import { Show } from 'solid-js';
import { interpolate, type Vars } from '../interpolate';
import type { Panel } from '../model';

export default function RowHeader(props: { row: Panel; collapsed: boolean; count: number; vars: Vars; onToggle: () => void }) {
  return (
    <div class="drow" data-testid="row">
      <button class="drow-toggle" onClick={props.onToggle} aria-expanded={!props.collapsed} data-testid="row-toggle">
        <span class="chev" aria-hidden="true">{props.collapsed ? '▸' : '▾'}</span>
        {interpolate(props.row.title || 'Row', props.vars)}
        <Show when={props.collapsed}>
          <span class="muted small"> ({props.count} panel{props.count === 1 ? '' : 's'})</span>
        </Show>
      </button>
    </div>
  );
}
