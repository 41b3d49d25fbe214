// Series reduced to one value each, as stat, gauge and bar gauge show them (`reduceOptions.calcs`).
import { reduce, type PanelData } from '../query';
import { colorFor, DEFAULT_THRESHOLDS } from '../thresholds';
import { formatValue } from '../units';
import type { FieldDefaults, Panel } from '../model';

export interface Reduced {
  name: string;
  value: number | null;
  text: string;
  color: string;
  values: (number | null)[];
}

export function reduced(panel: Panel, data: PanelData, defaults: FieldDefaults): Reduced[] {
  const calc = panel.options?.reduceOptions?.calcs?.[0] ?? 'lastNotNull';
  const thresholds = defaults.thresholds ?? DEFAULT_THRESHOLDS;
  const fixed = defaults.color?.mode === 'fixed' ? defaults.color.fixedColor : undefined;
  return data.series.map((s) => {
    const value = reduce(s.values, calc);
    const text = value == null ? defaults.noValue ?? 'No data' : formatValue(value, defaults.unit, defaults.decimals);
    const color = value == null ? 'var(--muted)' : (fixed ? colorFor(0, { steps: [{ value: null, color: fixed }] }) : colorFor(value, thresholds, defaults.min ?? 0, defaults.max ?? 100)) ?? 'var(--text)';
    return { name: defaults.displayName ?? s.name, value, text, color, values: s.values };
  });
}
