// Drawing deploy and crash markers on any uPlot chart (Explore's histogram and metric chart,
// dashboards' time series): a vertical line per marker (deploys solid, crashes dashed, each its own
// colour) in the chart's overlay, markers closer than a few pixels grouped into one, a tooltip on
// hover or focus, and a click on a deploy handed to the caller (the before/after comparison).
import type uPlot from 'uplot';
import { fmtTime } from '../time';
import { describeMarker, type Marker } from './events';
import './markers.css';

const GROUP_PX = 6;

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** A uPlot plugin drawing `markers` (time in ms); `onDeploy` runs when a deploy marker is clicked. */
export function markersPlugin(markers: Marker[], onDeploy?: (m: Marker) => void): uPlot.Plugin {
  let layer: HTMLDivElement;
  let tip: HTMLDivElement;
  const showTip = (u: uPlot, el: HTMLElement, group: Marker[]) => {
    const shown = group.slice(0, 4);
    const more = group.length - shown.length;
    tip.innerHTML =
      shown
        .map((m) => `<div class="tip-time">${fmtTime(m.ms, false)}</div>` + describeMarker(m).map((l, i) => `<div${i === 0 ? ` class="marker-tip-head marker-${m.kind}"` : ''}>${esc(l)}</div>`).join(''))
        .join('') +
      (more > 0 ? `<div class="muted">and ${more} more</div>` : '') +
      (group.some((m) => m.kind === 'deploy') && onDeploy ? `<div class="muted">click: errors before/after this deploy</div>` : '');
    tip.style.display = 'block';
    const x = parseFloat(el.style.left);
    const w = u.over.clientWidth;
    tip.style.left = x > w / 2 ? `${Math.max(0, x - tip.offsetWidth - 8)}px` : `${x + 8}px`;
  };
  const place = (u: uPlot) => {
    layer.textContent = '';
    const [min, max] = [u.scales.x.min ?? 0, u.scales.x.max ?? 0];
    const groups: { x: number; kind: Marker['kind']; list: Marker[] }[] = [];
    for (const m of markers) {
      const t = m.ms / 1000;
      if (t < min || t > max) continue;
      const x = u.valToPos(t, 'x');
      const g = groups.find((g) => g.kind === m.kind && Math.abs(g.x - x) < GROUP_PX);
      if (g) g.list.push(m);
      else groups.push({ x, kind: m.kind, list: [m] });
    }
    for (const g of groups) {
      const el = document.createElement('button');
      el.type = 'button';
      el.className = `marker marker-${g.kind}`;
      el.style.left = `${g.x}px`;
      el.dataset.testid = 'marker';
      el.dataset.kind = g.kind;
      el.dataset.ms = String(g.list[0].ms);
      el.dataset.count = String(g.list.length);
      el.setAttribute('aria-label', `${g.list.length > 1 ? `${g.list.length} ` : ''}${g.kind === 'deploy' ? 'deploy' : 'crash'} ${describeMarker(g.list[0]).join(', ')} at ${fmtTime(g.list[0].ms, false)}`);
      el.addEventListener('mouseenter', () => showTip(u, el, g.list));
      el.addEventListener('focus', () => showTip(u, el, g.list));
      el.addEventListener('mouseleave', () => (tip.style.display = 'none'));
      el.addEventListener('blur', () => (tip.style.display = 'none'));
      if (g.kind === 'deploy' && onDeploy) {
        el.addEventListener('click', (e) => {
          e.stopPropagation();
          tip.style.display = 'none';
          onDeploy(g.list[g.list.length - 1]);
        });
      }
      layer.appendChild(el);
    }
  };
  return {
    hooks: {
      init: (u) => {
        layer = document.createElement('div');
        layer.className = 'markers';
        layer.dataset.testid = 'markers';
        tip = document.createElement('div');
        tip.className = 'marker-tip';
        tip.dataset.testid = 'marker-tip';
        tip.style.display = 'none';
        u.over.appendChild(layer);
        u.over.appendChild(tip);
      },
      draw: [(u) => place(u)],
    },
  };
}
