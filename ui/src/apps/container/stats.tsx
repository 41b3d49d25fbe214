// CPU and memory of one container, drawn live: the last ~5 minutes of 2-second samples (since
// the view opened: the engine's stats are read only while someone looks).
import { Show } from 'solid-js';
import { fmtBytes, fmtPercent } from '../format';

export const WINDOW_MS = 5 * 60_000;

export interface Sample {
  t: number;
  cpu: number | null;
  mem: number | null;
}

/** An SVG line of the samples over the window ending at `now`, scaled to `max`. */
function chart(samples: Sample[], pick: (s: Sample) => number | null, max: number, now: number, colour: string) {
  const W = 300;
  const H = 48;
  // The window grows from the first sample (at least 30 s) up to WINDOW_MS, so the line shows at once.
  const span = Math.min(WINDOW_MS, Math.max(30_000, now - (samples[0]?.t ?? now)));
  const x = (t: number) => (((t - (now - span)) / span) * W).toFixed(1);
  const y = (v: number) => (H - 1 - (Math.min(v, max) / max) * (H - 4)).toFixed(1);
  // A gap (no value) breaks the line.
  const runs: string[][] = [[]];
  for (const s of samples) {
    const v = pick(s);
    if (v === null) {
      if (runs[runs.length - 1].length) runs.push([]);
    } else runs[runs.length - 1].push(`${x(s.t)},${y(v)}`);
  }
  const lines = runs
    .filter((r) => r.length)
    .map((r) => {
      // A lone sample is a short dash, not nothing.
      if (r.length === 1) r = [`${Math.max(0, Number(r[0].split(',')[0]) - 4)},${r[0].split(',')[1]}`, r[0]];
      const pts = r.join(' ');
      const first = r[0].split(',')[0];
      const last = r[r.length - 1].split(',')[0];
      return `<polyline fill="${colour}" fill-opacity="0.15" stroke="none" points="${first},${H} ${pts} ${last},${H}"/><polyline fill="none" stroke="${colour}" stroke-width="1.5" vector-effect="non-scaling-stroke" points="${pts}"/>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" width="100%" height="${H}" aria-hidden="true">${lines}</svg>`;
}

const maxOf = (samples: Sample[], pick: (s: Sample) => number | null) => samples.reduce((m, s) => Math.max(m, pick(s) ?? 0), 0);

export function Stats(props: { samples: Sample[]; limit: number | null; now: number; note: string }) {
  const last = () => props.samples[props.samples.length - 1];
  const cpuMax = () => Math.max(5, maxOf(props.samples, (s) => s.cpu) * 1.2);
  const memMax = () => Math.max(1024 * 1024, maxOf(props.samples, (s) => s.mem) * 1.2);
  return (
    <div class="cv-stats">
      <div class="cv-stat" data-testid="cpu">
        <div class="cv-stat-head">
          <span class="muted small">CPU</span>
          <span class="num" data-testid="cpu-value">
            {last()?.cpu != null ? fmtPercent(last()!.cpu!) : '–'}
          </span>
          <span class="muted small grow-r">max {fmtPercent(cpuMax())}</span>
        </div>
        <div class="cv-chart" innerHTML={chart(props.samples, (s) => s.cpu, cpuMax(), props.now, '#3e8ef7')} />
      </div>
      <div class="cv-stat" data-testid="memory">
        <div class="cv-stat-head">
          <span class="muted small">Memory</span>
          <span class="num" data-testid="memory-value">
            {last()?.mem != null ? fmtBytes(last()!.mem!) : '–'}
          </span>
          <span class="muted small" data-testid="memory-limit">
            {props.limit ? `of ${fmtBytes(props.limit)}${last()?.mem != null ? ` (${fmtPercent((last()!.mem! / props.limit) * 100)})` : ''}` : 'no limit'}
          </span>
          <span class="muted small grow-r">max {fmtBytes(memMax())}</span>
        </div>
        <div class="cv-chart" innerHTML={chart(props.samples, (s) => s.mem, memMax(), props.now, '#a371f7')} />
      </div>
      <Show when={props.note}>
        <p class="muted small cv-stats-note" data-testid="stats-note">
          {props.note}
        </p>
      </Show>
    </div>
  );
}
