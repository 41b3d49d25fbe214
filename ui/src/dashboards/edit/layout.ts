// Grafana's 24-column grid as the editor changes it: placing a panel pushes the ones it lands on
// down, then everything floats up (vertical compaction, as Grafana's grid does); rows are
// full-width items of height 1 that fold the panels under them (up to the next row) into
// `row.panels`. Every function returns new arrays and new panel objects; the input is unchanged.
import type { GridPos, Panel } from './shape';

export const COLUMNS = 24;

const overlap = (a: GridPos, b: GridPos) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

const byPos = (a: Panel, b: Panel) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x;

/** A grid position kept inside the grid: whole numbers, 1..24 columns wide, at least 1 high. */
export function clampPos(p: GridPos): GridPos {
  const w = Math.max(1, Math.min(COLUMNS, Math.round(p.w) || 1));
  const h = Math.max(1, Math.round(p.h) || 1);
  const x = Math.max(0, Math.min(COLUMNS - w, Math.round(p.x) || 0));
  const y = Math.max(0, Math.round(p.y) || 0);
  return { x, y, w, h };
}

/** Floats every item up as far as it goes without overlapping the items above it. */
export function compact(panels: Panel[]): Panel[] {
  const placed: Panel[] = [];
  for (const p of [...panels].sort(byPos)) {
    const g = { ...p.gridPos };
    while (g.y > 0 && !placed.some((q) => overlap({ ...g, y: g.y - 1 }, q.gridPos))) g.y--;
    placed.push({ ...p, gridPos: g });
  }
  return placed;
}

/** Puts `fixed` where it says and pushes every item it (transitively) lands on down, then compacts. */
function settle(panels: Panel[], fixedId: number): Panel[] {
  const fixed = panels.find((p) => p.id === fixedId)!;
  const placed: Panel[] = [{ ...fixed, gridPos: clampPos(fixed.gridPos) }];
  for (const p of panels.filter((q) => q.id !== fixedId).sort(byPos)) {
    const g = clampPos(p.gridPos);
    for (;;) {
      const hit = placed.find((q) => overlap(g, q.gridPos));
      if (!hit) break;
      g.y = hit.gridPos.y + hit.gridPos.h;
    }
    placed.push({ ...p, gridPos: g });
  }
  return compact(placed);
}

/** The largest panel id in the dashboard, rows' folded panels included, plus one. */
export function nextId(panels: Panel[]): number {
  let max = 0;
  for (const p of panels) {
    max = Math.max(max, Number(p.id) || 0);
    for (const c of p.panels ?? []) max = Math.max(max, Number(c.id) || 0);
  }
  return max + 1;
}

/** Adds a panel at the top left (as Grafana does), pushing the others down. */
export function addPanel(panels: Panel[], panel: Omit<Panel, 'id' | 'gridPos'> & Partial<Pick<Panel, 'gridPos'>>): { panels: Panel[]; id: number } {
  const id = nextId(panels);
  const p = { ...panel, id, gridPos: { x: 0, y: 0, w: 12, h: 8, ...panel.gridPos } } as Panel;
  return { panels: settle([...panels, p], id), id };
}

/** Adds an expanded row at the top; when the dashboard has no row yet, the existing panels fall under it. */
export function addRow(panels: Panel[], title = 'Row title'): { panels: Panel[]; id: number } {
  const id = nextId(panels);
  const row: Panel = { id, type: 'row', title, collapsed: false, panels: [], gridPos: { x: 0, y: 0, w: COLUMNS, h: 1 } };
  const shifted = panels.map((p) => ({ ...p, gridPos: { ...p.gridPos, y: p.gridPos.y + 1 } }));
  return { panels: compact([row, ...shifted]), id };
}

export function movePanel(panels: Panel[], id: number, x: number, y: number): Panel[] {
  return settle(
    panels.map((p) => (p.id === id ? { ...p, gridPos: { ...p.gridPos, x, y } } : p)),
    id,
  );
}

export function resizePanel(panels: Panel[], id: number, w: number, h: number): Panel[] {
  return settle(
    panels.map((p) => (p.id === id ? { ...p, gridPos: { ...p.gridPos, w: p.type === 'row' ? COLUMNS : w, h: p.type === 'row' ? 1 : h } } : p)),
    id,
  );
}

/** Removes a panel; removing a row removes the panels it holds (folded or under it) too. */
export function removePanel(panels: Panel[], id: number): Panel[] {
  const target = panels.find((p) => p.id === id);
  if (!target) return panels;
  let gone = new Set([id]);
  if (target.type === 'row' && !target.collapsed) gone = new Set([id, ...rowMembers(panels, id).map((p) => p.id)]);
  return compact(panels.filter((p) => !gone.has(p.id)));
}

/** A copy with a new id, right of the original when it fits there, else under it. */
export function duplicatePanel(panels: Panel[], id: number): { panels: Panel[]; id: number } {
  const src = panels.find((p) => p.id === id);
  if (!src || src.type === 'row') return { panels, id };
  const nid = nextId(panels);
  const g = src.gridPos;
  const right = { ...g, x: g.x + g.w };
  const fitsRight = right.x + right.w <= COLUMNS && !panels.some((p) => overlap(right, p.gridPos));
  const copy: Panel = { ...JSON.parse(JSON.stringify(src)), id: nid, gridPos: fitsRight ? right : { ...g, y: g.y + g.h } };
  return { panels: settle([...panels, copy], nid), id: nid };
}

/** The top-level panels under an expanded row, up to the next row. */
export function rowMembers(panels: Panel[], rowId: number): Panel[] {
  const sorted = [...panels].sort(byPos);
  const i = sorted.findIndex((p) => p.id === rowId);
  if (i < 0) return [];
  const out: Panel[] = [];
  for (const p of sorted.slice(i + 1)) {
    if (p.type === 'row') break;
    out.push(p);
  }
  return out;
}

/** Folds an expanded row (its panels go into `row.panels`) or unfolds a collapsed one (they come
 * back under it, pushing what follows down). */
export function toggleRow(panels: Panel[], rowId: number): Panel[] {
  const row = panels.find((p) => p.id === rowId);
  if (!row || row.type !== 'row') return panels;
  if (!row.collapsed) {
    const members = rowMembers(panels, rowId);
    const ids = new Set(members.map((p) => p.id));
    const folded = { ...row, collapsed: true, panels: members };
    return compact(panels.filter((p) => !ids.has(p.id)).map((p) => (p.id === rowId ? folded : p)));
  }
  const kids = row.panels ?? [];
  const top = row.gridPos.y + 1;
  const minY = kids.length ? Math.min(...kids.map((k) => k.gridPos.y)) : 0;
  const height = kids.length ? Math.max(...kids.map((k) => k.gridPos.y - minY + k.gridPos.h)) : 0;
  const placedKids = kids.map((k) => ({ ...k, gridPos: { ...k.gridPos, y: top + k.gridPos.y - minY } }));
  const rest = panels.map((p) => (p.id === rowId ? { ...row, collapsed: false, panels: [] } : p.gridPos.y > row.gridPos.y ? { ...p, gridPos: { ...p.gridPos, y: p.gridPos.y + height } } : p));
  return compact([...rest, ...placedKids]);
}

/** Pixel geometry of the grid: Grafana's cells are 30 px high with 8 px gaps. */
export const CELL_HEIGHT = 30;
export const GAP = 8;

export function colWidth(containerWidth: number) {
  return (containerWidth - GAP * (COLUMNS - 1)) / COLUMNS;
}

/** Pixels of a grid position in a container of this width. */
export function toPixels(g: GridPos, containerWidth: number) {
  const cw = colWidth(containerWidth);
  return { left: g.x * (cw + GAP), top: g.y * (CELL_HEIGHT + GAP), width: g.w * cw + (g.w - 1) * GAP, height: g.h * CELL_HEIGHT + (g.h - 1) * GAP };
}

/** The nearest grid cell of a pixel offset (snapping). */
export function snap(dxPx: number, dyPx: number, containerWidth: number) {
  return { dx: Math.round(dxPx / (colWidth(containerWidth) + GAP)), dy: Math.round(dyPx / (CELL_HEIGHT + GAP)) };
}
