// Grafana's unit ids and how Grafana writes a value in each (`short` → "1.50 K", `bytes` →
// "1.50 KiB", `s` → "1.50 min", `percentunit` → "25.0%"). Pure: no imports, unit-tested alone.

export type Decimals = number | null | undefined;

/** Grafana's automatic decimals: about two significant digits, none for integers. */
export function autoDecimals(value: number): number {
  const abs = Math.abs(value);
  if (abs === 0 || !Number.isFinite(abs)) return 0;
  let dec = -Math.floor(Math.log10(abs)) + 1;
  const norm = abs / Math.pow(10, -dec);
  if (norm > 2.25) dec++;
  if (value % 1 === 0) dec = 0;
  return Math.max(0, dec);
}

/** Grafana's toFixed: rounds to `decimals` (auto when unset) and pads with zeros. */
export function toFixed(value: number, decimals?: Decimals): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '∞' : '-∞';
  const d = decimals == null ? autoDecimals(value) : Math.max(0, Math.min(20, decimals));
  if (value === 0) return value.toFixed(d);
  const factor = d ? Math.pow(10, d) : 1;
  const s = String(Math.round(value * factor) / factor);
  if (s.includes('e')) return s;
  const dot = s.indexOf('.');
  const precision = dot === -1 ? 0 : s.length - dot - 1;
  if (precision < d) return (precision ? s : `${s}.`) + '0'.repeat(d - precision);
  return s;
}

/** Divides by `factor` until below it and appends the matching suffix. */
function scaled(factor: number, suffixes: string[]) {
  return (v: number, d: Decimals) => {
    let steps = 0;
    while (Math.abs(v) >= factor && steps < suffixes.length - 1) {
      v /= factor;
      steps++;
    }
    return toFixed(v, d) + suffixes[steps];
  };
}

const si = (unit: string) => scaled(1000, ['', 'k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'].map((p) => ` ${p}${unit}`));
const iec = (unit: string) => scaled(1024, ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi'].map((p) => ` ${p}${unit}`));
const count = (sym: string) => {
  const f = scaled(1000, ['', 'K', 'M', 'B', 'T']);
  return (v: number, d: Decimals) => `${f(v, d)} ${sym}`;
};
const suffix = (s: string) => (v: number, d: Decimals) => toFixed(v, d) + s;

/** A ladder of [below, divisor, suffix]: the first row whose bound the value is under. */
function ladder(rows: [number, number, string][]) {
  return (v: number, d: Decimals) => {
    const abs = Math.abs(v);
    const row = rows.find(([below]) => abs < below) ?? rows[rows.length - 1];
    return toFixed(v / row[1], d) + row[2];
  };
}

// Grafana's toNanoSeconds, toMicroSeconds, toMilliSeconds and toSeconds.
const nanos = ladder([[1e3, 1, ' ns'], [1e6, 1e3, ' µs'], [1e9, 1e6, ' ms'], [60e9, 1e9, ' s'], [3600e9, 60e9, ' min'], [86400e9, 3600e9, ' hour'], [Infinity, 86400e9, ' day']]);
const micros = ladder([[1e3, 1, ' µs'], [1e6, 1e3, ' ms'], [Infinity, 1e6, ' s']]);
const millis = ladder([[1e3, 1, ' ms'], [60e3, 1e3, ' s'], [3600e3, 60e3, ' min'], [86400e3, 3600e3, ' hour'], [31536e6, 86400e3, ' day'], [Infinity, 31536e6, ' year']]);
const secsAbove1 = ladder([[60, 1, ' s'], [3600, 60, ' min'], [86400, 3600, ' hour'], [604800, 86400, ' day'], [31536000, 604800, ' week'], [Infinity, 31536000, ' year']]);
const seconds = (v: number, d: Decimals) => (Math.abs(v) < 1 ? millis(v * 1000, d) : secsAbove1(v, d));

const UNITS: Record<string, (v: number, d: Decimals) => string> = {
  none: (v, d) => toFixed(v, d),
  short: scaled(1000, ['', ' K', ' Mil', ' Bil', ' Tri', ' Quadr', ' Quint', ' Sext', ' Sept']),
  percent: suffix('%'),
  percentunit: (v, d) => `${toFixed(v * 100, d)}%`,
  humidity: suffix('%H'),
  dB: suffix(' dB'),
  bytes: iec('B'),
  decbytes: si('B'),
  bits: iec('b'),
  decbits: si('b'),
  kbytes: (v, d) => iec('B')(v * 1024, d),
  mbytes: (v, d) => iec('B')(v * 1024 * 1024, d),
  gbytes: (v, d) => iec('B')(v * 1024 ** 3, d),
  deckbytes: (v, d) => si('B')(v * 1000, d),
  decmbytes: (v, d) => si('B')(v * 1e6, d),
  decgbytes: (v, d) => si('B')(v * 1e9, d),
  bps: si('b/s'),
  Bps: si('B/s'),
  binBps: iec('B/s'),
  binbps: iec('b/s'),
  KBs: (v, d) => si('B/s')(v * 1000, d),
  ns: nanos,
  µs: micros,
  us: micros,
  ms: millis,
  s: seconds,
  m: (v, d) => seconds(v * 60, d),
  h: (v, d) => seconds(v * 3600, d),
  d: (v, d) => seconds(v * 86400, d),
  hertz: si('Hz'),
  reqps: count('req/s'),
  reqpm: count('req/m'),
  ops: count('ops/s'),
  opm: count('ops/m'),
  rps: count('rd/s'),
  wps: count('wr/s'),
  iops: count('io/s'),
  cps: count('c/s'),
  cpm: count('c/m'),
  eps: count('evt/s'),
  mps: count('msg/s'),
  rpm: count('rpm'),
  celsius: suffix('°C'),
  fahrenheit: suffix('°F'),
  currencyUSD: (v, d) => `$${UNITS.short(v, d)}`,
  currencyEUR: (v, d) => `€${UNITS.short(v, d)}`,
  bool: (v) => (v ? 'true' : 'false'),
  bool_on_off: (v) => (v ? 'On' : 'Off'),
};

/** The unit ids this file knows. */
export const UNIT_IDS = Object.keys(UNITS);

/** Writes `value` in Grafana's unit `unit` (unknown ids: the number then the id, as Grafana shows custom units). */
export function formatValue(value: number | null | undefined, unit?: string, decimals?: Decimals): string {
  if (value == null) return '';
  const u = unit || 'short';
  if (u.startsWith('suffix:')) return toFixed(value, decimals) + u.slice(7);
  if (u.startsWith('prefix:')) return u.slice(7) + toFixed(value, decimals);
  if (u.startsWith('si:')) return si(u.slice(3))(value, decimals);
  if (u.startsWith('count:')) return count(u.slice(6))(value, decimals);
  const f = UNITS[u];
  return f ? f(value, decimals) : `${toFixed(value, decimals)} ${u}`;
}
