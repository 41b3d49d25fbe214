// The parts of Grafana's dashboard JSON model the editor reads and writes. Loose on purpose: a
// dashboard keeps every field the editor does not know, untouched, through edit and save.
export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface DsRef {
  type?: string;
  uid?: string;
}

export interface Target {
  refId?: string;
  expr?: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  hide?: boolean;
  queryType?: string;
  datasource?: DsRef | string | null;
  [k: string]: unknown;
}

export interface Panel {
  id: number;
  type: string;
  title?: string;
  description?: string;
  gridPos: GridPos;
  datasource?: DsRef | string | null;
  targets?: Target[];
  fieldConfig?: { defaults?: Record<string, any>; overrides?: unknown[] };
  options?: Record<string, any>;
  /** Rows only: folded, and then holding their panels here. */
  collapsed?: boolean;
  panels?: Panel[];
  [k: string]: unknown;
}

export interface Variable {
  type: string;
  name: string;
  label?: string;
  query?: unknown;
  datasource?: DsRef | string | null;
  [k: string]: unknown;
}

export interface Dashboard {
  id?: number | null;
  uid?: string;
  title: string;
  tags?: string[];
  time?: { from: string; to: string };
  refresh?: string;
  timezone?: string;
  version?: number;
  schemaVersion?: number;
  panels: Panel[];
  templating?: { list: Variable[] };
  __inputs?: ImportInput[];
  __requires?: unknown[];
  [k: string]: unknown;
}

/** One entry of an exported dashboard's `__inputs`. */
export interface ImportInput {
  name: string;
  label?: string;
  description?: string;
  type: string; // "datasource" | "constant"
  pluginId?: string;
  pluginName?: string;
  value?: string;
}

export interface DataSource {
  uid: string;
  name: string;
  type: string;
  isDefault?: boolean;
}

export const PANEL_TYPES: [string, string][] = [
  ['timeseries', 'Time series'],
  ['barchart', 'Bar chart'],
  ['stat', 'Stat'],
  ['gauge', 'Gauge'],
  ['bargauge', 'Bar gauge'],
  ['table', 'Table'],
  ['logs', 'Logs'],
  ['text', 'Text'],
];

export const clone = <T,>(v: T): T => JSON.parse(JSON.stringify(v));
