// The time range picker (presets, or from/to in Grafana's forms) and the popover helper it uses;
// shared by Explore and the dashboards.
import { createEffect, createSignal, For, onCleanup, Show } from 'solid-js';
import { describeRange, PRESETS, resolveRange } from './time';

/** Closes a popover when the pointer goes down outside `el`. */
export function closeOnOutside(el: () => HTMLElement | undefined, open: () => boolean, close: () => void) {
  const h = (e: PointerEvent) => {
    const root = el();
    if (open() && root && !root.contains(e.target as Node)) close();
  };
  document.addEventListener('pointerdown', h);
  onCleanup(() => document.removeEventListener('pointerdown', h));
}

export function TimePicker(props: { from: string; to: string; onApply: (from: string, to: string) => void }) {
  const [open, setOpen] = createSignal(false);
  let wrap: HTMLDivElement | undefined;
  closeOnOutside(() => wrap, open, () => setOpen(false));
  const [from, setFrom] = createSignal(props.from);
  const [to, setTo] = createSignal(props.to);
  const [err, setErr] = createSignal<string | null>(null);
  createEffect(() => {
    setFrom(props.from);
    setTo(props.to);
  });
  const apply = () => {
    const r = resolveRange(from(), to());
    if (typeof r === 'string') return setErr(r);
    setErr(null);
    setOpen(false);
    props.onApply(from().trim(), to().trim());
  };
  return (
    <div class="popover-wrap" ref={wrap} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
      <button onClick={() => setOpen(!open())} aria-expanded={open()} aria-haspopup="dialog" data-testid="time-picker" title="Time range">
        <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" style={{ 'vertical-align': '-2px', 'margin-right': '4px' }}>
          <circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" stroke-width="1.5" />
          <path d="M8 4v4l3 2" fill="none" stroke="currentColor" stroke-width="1.5" />
        </svg>
        {describeRange(props.from, props.to)}
      </button>
      <Show when={open()}>
        <div class="popover time-pop" role="dialog" aria-label="Time range">
          <div class="presets">
            <For each={PRESETS}>
              {([v, label]) => (
                <button classList={{ on: props.from === v && props.to === 'now' }} onClick={() => (setOpen(false), props.onApply(v, 'now'))}>
                  {label}
                </button>
              )}
            </For>
          </div>
          <form class="absolute" onSubmit={(e) => (e.preventDefault(), apply())}>
            <label>
              From <input value={from()} onInput={(e) => setFrom(e.currentTarget.value)} data-testid="time-from" />
            </label>
            <label>
              To <input value={to()} onInput={(e) => setTo(e.currentTarget.value)} data-testid="time-to" />
            </label>
            <p class="muted small">now-6h, now, epoch ms, or 2026-11-24T10:00:00Z</p>
            <Show when={err()}>
              <div class="error small">{err()}</div>
            </Show>
            <button class="primary" type="submit">
              Apply range
            </button>
          </form>
        </div>
      </Show>
    </div>
  );
}
