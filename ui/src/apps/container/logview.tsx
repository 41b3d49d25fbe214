// The container's lines and events, oldest first, following the newest unless scrolled up;
// stream markers per line, search matches highlighted.
import { createEffect, For, on, Show } from 'solid-js';
import { renderLine } from '../../ansi';
import { fmtTime } from '../../time';
import type { ViewRow } from './buffer';

export function LogView(props: { rows: ViewRow[]; search: RegExp | null; total: number }) {
  let box!: HTMLDivElement;
  let follow = true;
  const onScroll = () => {
    follow = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  };
  createEffect(
    on(
      () => props.rows,
      () => {
        if (follow) queueMicrotask(() => (box.scrollTop = box.scrollHeight));
      },
    ),
  );
  const pats = () => (props.search ? [props.search] : []);
  return (
    <div class="cv-log" ref={box} onScroll={onScroll} role="log" aria-live="off" data-testid="cv-log">
      <Show when={props.rows.length === 0}>
        <div class="muted pad" data-testid="cv-empty">
          {props.total ? 'No line matches.' : 'No lines from this container yet; new ones appear here as they are written.'}
        </div>
      </Show>
      <For each={props.rows}>
        {(r) =>
          r.event ? (
            <div class={`cv-row cv-event ${r.event.tone}`} data-testid="cv-event" data-event={r.event.event} title={r.line}>
              <time class="ts">{fmtTime(r.ms)}</time>
              <span class="cv-icon">{r.event.icon}</span>
              <span class="cv-text" innerHTML={renderLine(r.event.text, pats())} />
            </div>
          ) : (
            <div class={`cv-row ${r.stream}`} data-testid="cv-line" data-stream={r.stream}>
              <time class="ts">{fmtTime(r.ms)}</time>
              <span class={`cv-mark ${r.stream}`} title={r.stream} data-testid="cv-stream">
                {r.stream === 'stderr' ? 'err' : 'out'}
              </span>
              <span class="cv-text" innerHTML={renderLine(r.line, pats())} />
            </div>
          )
        }
      </For>
    </div>
  );
}
