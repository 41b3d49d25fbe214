// The text panel: markdown (or allow-listed HTML), variables interpolated, never raw HTML.
import { onMount } from 'solid-js';
import { interpolate } from '../interpolate';
import { markdown, sanitizeHtml } from '../markdown';
import type { PanelProps } from './types';

export default function TextPanel(props: PanelProps) {
  const content = () => interpolate(String(props.panel.options?.content ?? (props.panel as any).content ?? ''), props.vars);
  const mode = () => props.panel.options?.mode ?? (props.panel as any).mode ?? 'markdown';
  const html = () => (mode() === 'html' ? sanitizeHtml(content()) : mode() === 'code' ? `<pre><code>${content().replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)}</code></pre>` : markdown(content()));
  onMount(() => requestAnimationFrame(props.onDrawn));
  return <div class="text-panel" data-testid="text-panel" innerHTML={html()} />;
}
