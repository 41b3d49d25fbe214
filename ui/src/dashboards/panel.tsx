// One panel in its frame: title, description, the menu (view, explore, inspect, plus what the
// caller adds), loading and error states; it runs its queries whenever the range, the variables
// or the refresh tick change, and says `data-state="done"` once drawn.
import { createEffect, createSignal, For, on, onCleanup, onMount, Show, type JSX } from 'solid-js';
import { Dynamic } from 'solid-js/web';
import { exploreUrl, navigate } from '../router';
import { closeOnOutside } from '../timepicker';
import { interpolate, type Vars } from './interpolate';
import { resolveDataSource, type DataSource } from './datasources';
import { runPanel, type PanelData } from './query';
import { NO_QUERY, panelComponent } from './panels';
import Inspect from './inspect';
import type { Panel } from './model';

export interface PanelMenuItem {
  label: string;
  key?: string;
  onSelect: () => void;
}

export interface PanelFrameProps {
  panel: Panel;
  vars: Vars;
  range: { from: number; to: number };
  /** The range as written (`now-6h`), for links to Explore. */
  rangeText: { from: string; to: string };
  datasources: DataSource[];
  /** Changes when the dashboard refreshes. */
  tick: number;
  syncKey: string;
  onZoom: (fromMs: number, toMs: number) => void;
  onView?: () => void;
  viewing?: boolean;
  /** More menu items (the editor adds Edit, Duplicate, Remove). */
  menuExtra?: (p: Panel) => PanelMenuItem[];
  style?: JSX.CSSProperties;
}

const EMPTY: PanelData = { series: [], logs: [], instant: false, sent: [], intervalMs: 0 };

export function PanelFrame(props: PanelFrameProps) {
  let box!: HTMLElement;
  const [data, setData] = createSignal<PanelData | null>(null);
  const [loading, setLoading] = createSignal(false);
  const [state, setState] = createSignal<'loading' | 'done' | 'error'>('loading');
  const [inspect, setInspect] = createSignal(false);
  const [version, setVersion] = createSignal(0);
  let abort: AbortController | undefined;

  const run = async () => {
    abort?.abort();
    const ac = (abort = new AbortController());
    if (NO_QUERY.has(props.panel.type)) {
      setData(EMPTY);
      return;
    }
    setLoading(true);
    setState('loading');
    try {
      const d = await runPanel(props.panel, { vars: props.vars, from: props.range.from, to: props.range.to, width: Math.max(100, box?.clientWidth || 600), datasources: props.datasources, signal: ac.signal });
      if (ac.signal.aborted) return;
      setData(d);
      setVersion((v) => v + 1);
      if (d.error) setState('error');
    } catch (e: any) {
      if (e?.name === 'AbortError') return;
      setData({ ...EMPTY, error: e?.message ?? String(e) });
      setState('error');
    } finally {
      if (abort === ac) setLoading(false);
    }
  };
  onMount(() => {
    createEffect(on(() => [props.vars, props.range, props.tick, props.panel] as const, run));
  });
  onCleanup(() => abort?.abort());

  const drawn = () => {
    if (!data()?.error) setState('done');
    performance.mark(`bitacora-panel-${props.panel.id}-drawn`);
  };

  const title = () => interpolate(props.panel.title ?? '', props.vars);
  const lokiTarget = () => {
    const t = (props.panel.targets ?? []).find((t) => !t.hide && t.expr);
    if (!t) return null;
    const ds = resolveDataSource(t.datasource ?? props.panel.datasource, props.datasources, props.vars);
    if (typeof ds === 'string' || ds.type !== 'loki' || ds.uid !== 'bitacora') return null;
    const sent = data()?.sent.find((s) => s.refId === t.refId);
    return sent?.expr ?? interpolate(t.expr!, props.vars, 'loki');
  };
  const items = (): PanelMenuItem[] => [
    ...(props.onView ? [{ label: props.viewing ? 'Back to dashboard' : 'View', key: 'v', onSelect: props.onView }] : []),
    ...(lokiTarget() ? [{ label: 'Explore', key: 'x', onSelect: () => navigate(exploreUrl(lokiTarget()!, props.rangeText.from, props.rangeText.to)) }] : []),
    ...(NO_QUERY.has(props.panel.type) ? [] : [{ label: 'Inspect', key: 'i', onSelect: () => setInspect(true) }]),
    ...(props.menuExtra?.(props.panel) ?? []),
  ];

  return (
    <section
      class="dpanel"
      classList={{ transparent: !!props.panel.transparent, viewing: !!props.viewing }}
      ref={box}
      style={props.style}
      data-testid="panel"
      data-panel-id={props.panel.id}
      data-type={props.panel.type}
      data-state={state()}
      aria-label={title() || props.panel.type}
      aria-busy={loading()}
    >
      <header class="dpanel-head">
        <h2 class="dpanel-title" title={props.panel.description || title()}>
          {title()}
        </h2>
        <Show when={loading()}>
          <span class="spinner" aria-label="Loading" />
        </Show>
        <Show when={data()?.error}>
          <span class="dpanel-err" title={data()!.error} role="img" aria-label={`Error: ${data()!.error}`} data-testid="panel-error">
            !
          </span>
        </Show>
        <PanelMenu items={items()} />
      </header>
      <div class="dpanel-body">
        <Show when={data()}>
          {(d) => (
            <Show when={version() >= 0 && d()} keyed>
              {(dd) => <Dynamic component={panelComponent(props.panel.type)} panel={props.panel} data={dd} range={props.range} vars={props.vars} syncKey={props.syncKey} onZoom={props.onZoom} onDrawn={drawn} />}
            </Show>
          )}
        </Show>
        <Show when={data()?.error && !data()!.series.length && !data()!.logs.length}>
          <div class="dpanel-errtext" role="alert">
            {data()!.error}
          </div>
        </Show>
      </div>
      <Show when={inspect()}>
        <Inspect panel={props.panel} title={title()} data={data() ?? EMPTY} onClose={() => setInspect(false)} />
      </Show>
    </section>
  );
}

function PanelMenu(props: { items: PanelMenuItem[] }) {
  const [open, setOpen] = createSignal(false);
  let wrap: HTMLDivElement | undefined;
  let btn: HTMLButtonElement | undefined;
  closeOnOutside(() => wrap, open, () => setOpen(false));
  const pick = (i: PanelMenuItem) => {
    setOpen(false);
    i.onSelect();
  };
  const keys = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      setOpen(false);
      btn?.focus();
    }
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const all = [...(wrap?.querySelectorAll<HTMLButtonElement>('[role=menuitem]') ?? [])];
      const at = all.indexOf(document.activeElement as HTMLButtonElement);
      all[(at + (e.key === 'ArrowDown' ? 1 : all.length - 1)) % all.length]?.focus();
    }
  };
  return (
    <div class="popover-wrap dpanel-menu" ref={wrap} onKeyDown={keys}>
      <button
        ref={btn}
        class="icon"
        aria-label="Panel menu"
        aria-haspopup="menu"
        aria-expanded={open()}
        data-testid="panel-menu"
        onClick={() => {
          setOpen(!open());
          if (open()) requestAnimationFrame(() => wrap?.querySelector<HTMLButtonElement>('[role=menuitem]')?.focus());
        }}
      >
        ⋮
      </button>
      <Show when={open()}>
        <div class="popover menu-pop" role="menu">
          <For each={props.items}>
            {(i) => (
              <button role="menuitem" onClick={() => pick(i)} data-testid={`menu-${i.label.toLowerCase().replace(/\s+/g, '-')}`}>
                {i.label}
              </button>
            )}
          </For>
        </div>
      </Show>
    </div>
  );
}
