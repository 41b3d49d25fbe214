// The dashboard's grid in edit mode: every panel in its place on the 24 columns, moved by dragging
// its title bar and resized by dragging its corner (pointer events, snapped to the grid while
// dragging), or from the keyboard on the focused panel: arrows move, Shift+arrows resize.
// Rows show their title, fold and unfold, and are moved like panels.
import { createMemo, createSignal, For, onCleanup, onMount, Show, type JSX } from 'solid-js';
import { CELL_HEIGHT, clampPos, COLUMNS, GAP, snap, toPixels } from './layout';
import type { GridPos, Panel } from './shape';

export interface GridActions {
  move: (id: number, x: number, y: number) => void;
  resize: (id: number, w: number, h: number) => void;
  edit: (id: number) => void;
  duplicate: (id: number) => void;
  remove: (id: number) => void;
  toggleRow: (id: number) => void;
  renameRow: (id: number, title: string) => void;
}

interface Drag {
  id: number;
  kind: 'move' | 'resize';
  start: { x: number; y: number };
  from: GridPos;
  pointer: number;
}

export function EditGrid(props: { panels: Panel[]; actions: GridActions; renderPanel: (p: () => Panel, size: () => { width: number; height: number }) => JSX.Element }) {
  let el!: HTMLDivElement;
  const [width, setWidth] = createSignal(1200);
  const [drag, setDrag] = createSignal<Drag | null>(null);
  const [ghost, setGhost] = createSignal<GridPos | null>(null);
  onMount(() => {
    const ro = new ResizeObserver(() => setWidth(el.clientWidth || 1200));
    ro.observe(el);
    setWidth(el.clientWidth || 1200);
    onCleanup(() => ro.disconnect());
  });

  // Keyed by id, so a panel's content stays mounted while it moves or its options change.
  const byId = createMemo(() => new Map(props.panels.map((p) => [p.id, p])));
  const ids = createMemo(() => props.panels.map((p) => p.id));
  const height = () => {
    const bottom = Math.max(0, ...props.panels.map((p) => p.gridPos.y + p.gridPos.h), ghost() ? ghost()!.y + ghost()!.h : 0);
    return bottom * (CELL_HEIGHT + GAP) + CELL_HEIGHT * 4;
  };

  const begin = (e: PointerEvent, p: Panel, kind: Drag['kind']) => {
    if (e.button !== 0) return;
    e.preventDefault();
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    setDrag({ id: p.id, kind, start: { x: e.clientX, y: e.clientY }, from: { ...p.gridPos }, pointer: e.pointerId });
    setGhost({ ...p.gridPos });
  };
  const moveTo = (e: PointerEvent) => {
    const d = drag();
    if (!d || e.pointerId !== d.pointer) return;
    const s = snap(e.clientX - d.start.x, e.clientY - d.start.y, width());
    const g = d.kind === 'move' ? { ...d.from, x: d.from.x + s.dx, y: d.from.y + s.dy } : { ...d.from, w: d.from.w + s.dx, h: d.from.h + s.dy };
    setGhost(clampPos(g));
  };
  const end = (e: PointerEvent) => {
    const d = drag();
    if (!d || e.pointerId !== d.pointer) return;
    const g = ghost();
    setDrag(null);
    setGhost(null);
    if (!g) return;
    if (d.kind === 'move' && (g.x !== d.from.x || g.y !== d.from.y)) props.actions.move(d.id, g.x, g.y);
    if (d.kind === 'resize' && (g.w !== d.from.w || g.h !== d.from.h)) props.actions.resize(d.id, g.w, g.h);
  };

  const onKey = (e: KeyboardEvent, p: Panel) => {
    if (e.target !== e.currentTarget) return;
    const dirs: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const d = dirs[e.key];
    if (d) {
      e.preventDefault();
      const g = p.gridPos;
      if (e.shiftKey) props.actions.resize(p.id, Math.min(COLUMNS - g.x, Math.max(1, g.w + d[0])), Math.max(1, g.h + d[1]));
      else props.actions.move(p.id, g.x + d[0], Math.max(0, g.y + d[1]));
      // The panel keeps the focus across the re-render.
      queueMicrotask(() => (document.querySelector(`[data-panel-id="${p.id}"]`) as HTMLElement | null)?.focus());
    } else if (e.key === 'e' && p.type !== 'row') props.actions.edit(p.id);
    else if (e.key === 'Delete') props.actions.remove(p.id);
  };

  const pos = (g: GridPos) => {
    const r = toPixels(g, width());
    return { left: `${r.left}px`, top: `${r.top}px`, width: `${r.width}px`, height: `${r.height}px` };
  };

  return (
    <div class="de-grid" ref={el} style={{ height: `${height()}px` }} data-testid="edit-grid" onPointerMove={moveTo} onPointerUp={end} onPointerCancel={end}>
      <For each={ids()}>
        {(id) => {
          // Kept after removal, for the moment before <For> drops this item.
          let last: Panel;
          const cur = () => (last = byId().get(id) ?? last);
          return (
          <Show
            when={cur().type !== 'row'}
            fallback={
              <div class="de-row" classList={{ dragging: drag()?.id === cur().id }} style={pos(cur().gridPos)} tabindex="0" data-panel-id={cur().id} data-testid="edit-row" aria-label={`Row ${cur().title ?? ''}`} onKeyDown={(e) => onKey(e, cur())}>
                <span class="de-handle" onPointerDown={(e) => begin(e, cur(), 'move')} title="Drag to move the row" aria-hidden="true">
                  ⠿
                </span>
                <button class="icon" onClick={() => props.actions.toggleRow(cur().id)} aria-expanded={!cur().collapsed} aria-label={cur().collapsed ? `Expand row ${cur().title}` : `Collapse row ${cur().title}`} data-testid="row-toggle">
                  {cur().collapsed ? '▸' : '▾'}
                </button>
                <input class="de-row-title" value={cur().title ?? ''} aria-label="Row title" onChange={(e) => props.actions.renameRow(cur().id, e.currentTarget.value)} data-testid="row-title" />
                <Show when={cur().collapsed}>
                  <span class="muted small">({cur().panels?.length ?? 0} panels)</span>
                </Show>
                <span class="grow" />
                <button class="icon" onClick={() => props.actions.remove(cur().id)} aria-label={`Delete row ${cur().title}`} title="Delete the row and its panels" data-testid="row-delete">
                  ✕
                </button>
              </div>
            }
          >
            <section
              class="de-panel"
              classList={{ dragging: drag()?.id === cur().id }}
              style={pos(cur().gridPos)}
              tabindex="0"
              data-panel-id={cur().id}
              data-testid="edit-panel"
              data-grid={`${cur().gridPos.x},${cur().gridPos.y},${cur().gridPos.w},${cur().gridPos.h}`}
              aria-label={`Panel ${cur().title || cur().type}: arrows move, Shift+arrows resize, E edits, Delete removes`}
              onKeyDown={(e) => onKey(e, cur())}
            >
              <header class="de-panel-head" onPointerDown={(e) => (e.target as HTMLElement).closest('button') || begin(e, cur(), 'move')} data-testid="panel-drag">
                <span class="de-title">{cur().title || <span class="muted">No title</span>}</span>
                <span class="grow" />
                <button class="icon" onClick={() => props.actions.edit(cur().id)} aria-label={`Edit panel ${cur().title}`} title="Edit (E)" data-testid="panel-edit">
                  ✎
                </button>
                <button class="icon" onClick={() => props.actions.duplicate(cur().id)} aria-label={`Duplicate panel ${cur().title}`} title="Duplicate" data-testid="panel-duplicate">
                  Copy
                </button>
                <button class="icon" onClick={() => props.actions.remove(cur().id)} aria-label={`Delete panel ${cur().title}`} title="Delete" data-testid="panel-delete">
                  ✕
                </button>
              </header>
              <div class="de-panel-body">{props.renderPanel(cur, () => ({ width: toPixels(cur().gridPos, width()).width, height: toPixels(cur().gridPos, width()).height - 32 }))}</div>
              <span class="de-resize" onPointerDown={(e) => begin(e, cur(), 'resize')} title="Drag to resize" aria-hidden="true" data-testid="panel-resize" />
            </section>
          </Show>
          );
        }}
      </For>
      <Show when={ghost()}>{(g) => <div class="de-ghost" style={pos(g())} data-testid="drag-ghost" />}</Show>
    </div>
  );
}
