// Grafana's dashboard JSON model, the parts people use, and the migration of older dashboards
// (schema rows with spans, `graph`, `singlestat`, `table-old`) to the current panel types.
import type { Thresholds } from './thresholds';

export interface DataSourceRef {
  uid?: string;
  type?: string;
}

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Target {
  refId: string;
  expr?: string;
  legendFormat?: string;
  queryType?: string; // Loki: 'range' | 'instant'
  instant?: boolean;
  range?: boolean;
  datasource?: DataSourceRef | string | null;
  hide?: boolean;
  maxLines?: number;
  interval?: string;
  step?: number | string;
  intervalFactor?: number;
  format?: string;
}

export interface FieldDefaults {
  unit?: string;
  min?: number;
  max?: number;
  decimals?: number;
  displayName?: string;
  noValue?: string;
  thresholds?: Thresholds;
  color?: { mode?: string; fixedColor?: string };
  custom?: {
    drawStyle?: 'line' | 'bars' | 'points';
    stacking?: { mode?: 'none' | 'normal' | 'percent'; group?: string };
    fillOpacity?: number;
    lineWidth?: number;
    showPoints?: string;
    axisPlacement?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface PanelOptions {
  legend?: { showLegend?: boolean; displayMode?: 'list' | 'table' | 'hidden'; placement?: 'bottom' | 'right'; calcs?: string[] };
  tooltip?: { mode?: 'single' | 'multi' | 'none' };
  reduceOptions?: { calcs?: string[]; values?: boolean; fields?: string; limit?: number };
  orientation?: string;
  colorMode?: string;
  graphMode?: string;
  textMode?: string;
  showThresholdMarkers?: boolean;
  displayMode?: string;
  content?: string;
  mode?: 'markdown' | 'html' | 'code';
  showTime?: boolean;
  wrapLogMessage?: boolean;
  sortOrder?: 'Descending' | 'Ascending';
  showHeader?: boolean;
  // The table's initial order.
  sortBy?: { displayName: string; desc?: boolean }[];
  [k: string]: unknown;
}

export interface Panel {
  id: number;
  type: string;
  title?: string;
  description?: string;
  gridPos: GridPos;
  datasource?: DataSourceRef | string | null;
  targets?: Target[];
  fieldConfig?: { defaults?: FieldDefaults; overrides?: unknown[] };
  options?: PanelOptions;
  maxDataPoints?: number;
  interval?: string;
  transparent?: boolean;
  repeat?: string;
  /** Rows: whether folded, and (when folded) the panels they hold. */
  collapsed?: boolean;
  panels?: Panel[];
  [k: string]: unknown;
}

export interface VariableOption {
  text: string;
  value: string;
  selected?: boolean;
}

export interface Variable {
  name: string;
  type: 'query' | 'custom' | 'interval' | 'textbox' | 'constant' | 'datasource' | 'adhoc' | string;
  label?: string;
  description?: string;
  hide?: 0 | 1 | 2;
  datasource?: DataSourceRef | string | null;
  query?: string | { query?: string; qryType?: number; type?: number; label?: string; stream?: string; refId?: string };
  definition?: string;
  regex?: string;
  sort?: number;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  current?: { text?: string | string[]; value?: string | string[] };
  options?: VariableOption[];
  refresh?: number;
  auto?: boolean;
  auto_count?: number;
  auto_min?: string;
  [k: string]: unknown;
}

export interface Dashboard {
  uid: string;
  title: string;
  id?: number | null;
  tags?: string[];
  time?: { from: string; to: string };
  refresh?: string | false;
  timezone?: string;
  graphTooltip?: number;
  editable?: boolean;
  description?: string;
  templating?: { list: Variable[] };
  panels: Panel[];
  timepicker?: { refresh_intervals?: string[]; hidden?: boolean };
  schemaVersion?: number;
  version?: number;
  links?: unknown[];
  [k: string]: unknown;
}

export interface DashboardMeta {
  slug?: string;
  url?: string;
  version?: number;
  canSave?: boolean;
  canEdit?: boolean;
  provisioned?: boolean;
  folderTitle?: string;
  folderUid?: string;
  updated?: string;
}

export const GRID_COLUMNS = 24;
export const CELL_HEIGHT = 30;
export const CELL_GAP = 8;

/** Height in pixels of `h` grid units (Grafana: 30 px cells, 8 px margins). */
export const unitsToPx = (h: number) => h * CELL_HEIGHT + (h - 1) * CELL_GAP;

const CALC_NAMES: Record<string, string> = { current: 'lastNotNull', avg: 'mean', total: 'sum', min: 'min', max: 'max', first: 'firstNotNull', delta: 'delta', diff: 'diff', range: 'range', name: 'lastNotNull', last_time: 'lastNotNull' };

function migrateGraph(p: any): Panel {
  const custom: FieldDefaults['custom'] = {
    drawStyle: p.bars ? 'bars' : p.lines === false && p.points ? 'points' : 'line',
    fillOpacity: p.fill != null ? Math.min(100, p.fill * 10) : 0,
    lineWidth: p.linewidth ?? 1,
    stacking: { mode: p.stack ? (p.percentage ? 'percent' : 'normal') : 'none' },
  };
  const y = p.yaxes?.[0] ?? {};
  const defaults: FieldDefaults = { ...(p.fieldConfig?.defaults ?? {}), custom, unit: y.format ?? p.fieldConfig?.defaults?.unit };
  if (y.min != null && y.min !== '') defaults.min = Number(y.min);
  if (y.max != null && y.max !== '') defaults.max = Number(y.max);
  if (p.decimals != null) defaults.decimals = p.decimals;
  const legendOld = p.legend ?? {};
  return {
    ...p,
    type: 'timeseries',
    fieldConfig: { defaults, overrides: [] },
    options: { legend: { showLegend: legendOld.show !== false, displayMode: legendOld.alignAsTable ? 'table' : 'list', placement: legendOld.rightSide ? 'right' : 'bottom', calcs: [] }, tooltip: { mode: p.tooltip?.shared === false ? 'single' : 'multi' } },
  };
}

function migrateSinglestat(p: any): Panel {
  const colors: string[] = p.colors ?? ['green', 'orange', 'red'];
  const levels = typeof p.thresholds === 'string' ? p.thresholds.split(',').map((x: string) => Number(x.trim())).filter((x: number) => Number.isFinite(x)) : [];
  const steps = [{ value: null, color: colors[0] }, ...levels.map((v: number, i: number) => ({ value: v, color: colors[i + 1] ?? colors[colors.length - 1] }))];
  const defaults: FieldDefaults = { unit: p.format ?? 'none', decimals: p.decimals ?? undefined, thresholds: { mode: 'absolute', steps } };
  if (p.gauge?.show) {
    defaults.min = p.gauge.minValue ?? 0;
    defaults.max = p.gauge.maxValue ?? 100;
  }
  return {
    ...p,
    type: p.gauge?.show ? 'gauge' : 'stat',
    fieldConfig: { defaults, overrides: [] },
    options: { reduceOptions: { calcs: [CALC_NAMES[p.valueName ?? 'avg'] ?? 'mean'] }, colorMode: p.colorBackground ? 'background' : p.colorValue ? 'value' : 'none', graphMode: p.sparkline?.show ? 'area' : 'none' },
  };
}

/** Old dashboards (before schema 16) keep panels in `rows` with 12-column spans. */
function fromSchemaRows(d: any): Panel[] {
  const out: Panel[] = [];
  let y = 0;
  for (const row of d.rows ?? []) {
    const h = Math.max(3, Math.ceil((parseInt(row.height ?? '250', 10) || 250) / (CELL_HEIGHT + CELL_GAP)));
    if (row.showTitle || (d.rows.length > 1 && row.title)) out.push({ id: 0, type: 'row', title: row.title, gridPos: { x: 0, y: y++, w: 24, h: 1 }, collapsed: !!row.collapse, panels: [] });
    let x = 0;
    for (const p of row.panels ?? []) {
      const w = Math.max(1, Math.round(((p.span ?? 12) / 12) * GRID_COLUMNS));
      if (x + w > GRID_COLUMNS) {
        x = 0;
        y += h;
      }
      out.push({ ...p, gridPos: { x, y, w, h } });
      x += w;
    }
    y += h;
  }
  return out;
}

function migratePanel(p: any): Panel {
  let q: Panel = p;
  if (p.type === 'graph') q = migrateGraph(p);
  else if (p.type === 'singlestat' || p.type === 'grafana-singlestat-panel') q = migrateSinglestat(p);
  else if (p.type === 'table-old') q = { ...p, type: 'table' };
  else if (p.type === 'grafana-piechart-panel') q = { ...p, type: 'piechart' };
  if (q.panels) q = { ...q, panels: q.panels.map(migratePanel) };
  return q;
}

/** A dashboard as this viewer draws it: current panel types, gridPos and ids everywhere, targets with refIds. */
export function normalize(input: any): Dashboard {
  const d = { ...(input ?? {}) } as any;
  let panels: Panel[] = Array.isArray(d.panels) ? d.panels : fromSchemaRows(d);
  let nextId = 1 + Math.max(0, ...flatten(panels).map((p) => (typeof p.id === 'number' ? p.id : 0)));
  let bottom = 0;
  const fix = (p: any): Panel => {
    const gp = p.gridPos ?? { x: 0, y: bottom, w: 12, h: 8 };
    const gridPos = { x: clamp(gp.x ?? 0, 0, 23), y: Math.max(0, gp.y ?? 0), w: clamp(gp.w ?? 12, 1, 24), h: Math.max(1, gp.h ?? 8) };
    bottom = Math.max(bottom, gridPos.y + gridPos.h);
    const m = migratePanel({ ...p, gridPos, id: typeof p.id === 'number' && p.id > 0 ? p.id : nextId++ });
    const targets = (m.targets ?? []).map((t: any, i: number) => ({ ...t, refId: t.refId || String.fromCharCode(65 + (i % 26)) }));
    return { ...m, targets, panels: m.panels?.map(fix) };
  };
  panels = panels.map(fix);
  return {
    ...d,
    uid: d.uid ?? '',
    title: d.title ?? 'Untitled dashboard',
    tags: d.tags ?? [],
    time: d.time ?? { from: 'now-6h', to: 'now' },
    templating: { list: d.templating?.list ?? [] },
    panels,
  };
}

function clamp(v: number, lo: number, hi: number) {
  return Math.min(hi, Math.max(lo, Math.round(v)));
}

/** Every panel, rows' folded panels included. */
export function flatten(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Rows and the panels each holds, in reading order; panels before the first row have no row. */
export interface Section {
  row?: Panel;
  panels: Panel[];
}

export function sections(panels: Panel[]): Section[] {
  const sorted = [...panels].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x);
  const out: Section[] = [{ panels: [] }];
  for (const p of sorted) {
    if (p.type === 'row') out.push({ row: p, panels: p.collapsed ? [...(p.panels ?? [])] : [] });
    else out[out.length - 1].panels.push(p);
  }
  return out.filter((s, i) => i > 0 || s.panels.length > 0);
}

/** Grafana's slug of a title (lowercase, words joined by dashes). */
export function slugify(title: string) {
  return title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export const isRow = (p: Panel) => p.type === 'row';
