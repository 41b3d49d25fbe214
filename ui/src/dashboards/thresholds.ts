// Colours by thresholds (a base colour plus steps, absolute or percentage of min..max) and
// Grafana's named colours ("green", "dark-red", "semi-dark-orange", ...) as hex.

export interface ThresholdStep {
  value: number | null;
  color: string;
}
export interface Thresholds {
  mode?: 'absolute' | 'percentage';
  steps: ThresholdStep[];
}

const HUES: Record<string, [string, string, string, string, string]> = {
  // super-light, light, (base), semi-dark, dark
  red: ['#FFA6B0', '#FF7383', '#F2495C', '#E02F44', '#C4162A'],
  orange: ['#FFCB7D', '#FFB357', '#FF9830', '#FF780A', '#FA6400'],
  yellow: ['#FFF899', '#FFEE52', '#FADE2A', '#F2CC0C', '#E0B400'],
  green: ['#C8F2C2', '#96D98D', '#73BF69', '#56A64B', '#37872D'],
  blue: ['#C0D8FF', '#8AB8FF', '#5794F2', '#3274D9', '#1F60C4'],
  purple: ['#DEB6F2', '#CA95E5', '#B877D9', '#A352CC', '#8F3BB8'],
};

/** A Grafana colour name or any CSS colour → a CSS colour. */
export function resolveColor(c: string | undefined): string {
  if (!c) return 'var(--text)';
  if (c === 'text') return 'var(--text)';
  if (c === 'transparent') return 'transparent';
  const m = /^(super-light|light|semi-dark|dark)?-?(red|orange|yellow|green|blue|purple)$/.exec(c);
  if (m) {
    const i = { 'super-light': 0, light: 1, undefined: 2, 'semi-dark': 3, dark: 4 }[String(m[1]) as 'light'];
    return HUES[m[2]][i ?? 2];
  }
  return c;
}

/** The step a value falls in: the last whose value is at or below it (the base step has value null). */
export function stepFor(value: number, t: Thresholds | undefined, min = 0, max = 100): ThresholdStep | undefined {
  if (!t?.steps?.length) return undefined;
  const v = t.mode === 'percentage' ? ((value - min) / (max - min || 1)) * 100 : value;
  let hit = t.steps[0];
  for (const s of t.steps) {
    if (s.value == null || s.value === -Infinity || v >= s.value) hit = s;
    else break;
  }
  return hit;
}

export function colorFor(value: number, t: Thresholds | undefined, min?: number, max?: number): string | undefined {
  const s = stepFor(value, t, min, max);
  return s ? resolveColor(s.color) : undefined;
}

/** Grafana's default thresholds: green, red at 80. */
export const DEFAULT_THRESHOLDS: Thresholds = { mode: 'absolute', steps: [{ value: null, color: 'green' }, { value: 80, color: 'red' }] };
