// Explore's log volume: lines per level in buckets that cover exactly the chosen range.
//
// A range query's points are aligned to multiples of the step and each counts (t - step, t], so
// its first and last buckets spill beyond [start, end). Here the inner buckets come from the range
// query, the total from one instant count over exactly [start, end) (the window (T - R, T] with
// T = end - 1 ns, R = end - start, the same lines the log list shows), the last bucket from an
// instant count over [its start, end), and the first bucket is what remains: the bars add up to
// the total, and neither edge counts a line outside the range.
import { apiGet, type MatrixSeries } from './api';
import { fmtDuration, niceStep } from './time';
import type { Histogram } from './charts';

const TAGS = { 'X-Query-Tags': 'Source=logvolhist' };

type ByLevel = Map<string, number>;

const levelOf = (m: Record<string, string>) => m.detected_level ?? m.level ?? 'unknown';

/** Lines of `query` by level in exactly [fromMs, toMs). */
async function countByLevel(query: string, fromMs: number, toMs: number, signal?: AbortSignal): Promise<ByLevel> {
  const q = `sum by (detected_level) (count_over_time(${query} [${Math.round(toMs - fromMs)}ms]))`;
  const res = await apiGet('/loki/api/v1/query', { query: q, time: `${BigInt(Math.round(toMs)) * 1_000_000n - 1n}` }, { signal, headers: TAGS });
  const out: ByLevel = new Map();
  for (const s of res.data?.result ?? []) out.set(levelOf(s.metric), (out.get(levelOf(s.metric)) ?? 0) + Number(s.value[1]));
  return out;
}

/** The stacked log volume of `query` over [fromMs, toMs), about 90 buckets. */
export async function loadVolume(query: string, fromMs: number, toMs: number, signal?: AbortSignal): Promise<Histogram & { total: number }> {
  const q = query.trim();
  const step = niceStep(toMs - fromMs, 90);
  const stepMs = step * 1000;
  const a = Math.ceil(fromMs / stepMs) * stepMs; // the first bucket ends here: [from, a]
  const b = Math.ceil(toMs / stepMs) * stepMs; // the last bucket: [b - step, to)
  const totalP = countByLevel(q, fromMs, toMs, signal);
  if (b === a) {
    const total = await totalP;
    return build([a], [total], step);
  }
  const rangeP = apiGet('/loki/api/v1/query_range', { query: `sum by (detected_level) (count_over_time(${q} [${fmtDuration(step)}]))`, start: `${fromMs}000000`, end: `${toMs}000000`, step: `${step}s` }, { signal, headers: TAGS });
  const lastP = countByLevel(q, b - stepMs, toMs, signal);
  const [total, range, last] = await Promise.all([totalP, rangeP, lastP]);
  // Inner buckets: points p in (a, b - step], each (p - step, p], inside the range.
  const inner = new Map<number, ByLevel>();
  for (let p = a + stepMs; p <= b - stepMs; p += stepMs) inner.set(p, new Map());
  for (const s of (range.data?.result ?? []) as MatrixSeries[]) {
    for (const [t, v] of s.values) {
      const bucket = inner.get(Math.round(Number(t) * 1000));
      if (bucket) bucket.set(levelOf(s.metric), (bucket.get(levelOf(s.metric)) ?? 0) + Number(v));
    }
  }
  const first: ByLevel = new Map();
  for (const [l, n] of total) {
    let rest = n - (last.get(l) ?? 0);
    for (const m of inner.values()) rest -= m.get(l) ?? 0;
    if (rest > 0) first.set(l, rest);
  }
  return build([a, ...inner.keys(), b], [first, ...inner.values(), last], step);
}

function build(timesMs: number[], buckets: ByLevel[], step: number): Histogram & { total: number } {
  const levels = new Set<string>();
  for (const m of buckets) for (const [l, n] of m) if (n > 0) levels.add(l);
  const out = [...levels].map((level) => ({ level, values: buckets.map((m) => m.get(level) ?? null) }));
  const total = out.reduce((n, l) => n + l.values.reduce<number>((x, v) => x + (v ?? 0), 0), 0);
  return { times: timesMs.map((t) => t / 1000), step, levels: out, total };
}
