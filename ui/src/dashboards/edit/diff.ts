// A line diff of two texts (Myers' O(ND) algorithm), for comparing two versions of a dashboard's
// JSON. Bounded: past `maxEdits` differences it gives up and says so instead of using more memory.
export type DiffLine = { op: ' ' | '+' | '-'; text: string };

export function diffLines(a: string, b: string, maxEdits = 2000): DiffLine[] | null {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  const max = Math.min(n + m, maxEdits);
  const off = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice());
    const nv = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let i = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let j = i - k;
      while (i < n && j < m && x[i] === y[j]) i++, j++;
      nv[off + k] = i;
      if (i >= n && j >= m) {
        found = d;
        break;
      }
    }
    v = nv;
  }
  if (found < 0) return null;
  // Walk back through the saved frontiers.
  const out: DiffLine[] = [];
  let i = n;
  let j = m;
  for (let d = found; d > 0; d--) {
    const pv = trace[d];
    const k = i - j;
    const down = k === -d || (k !== d && pv[off + k - 1] < pv[off + k + 1]);
    const pk = down ? k + 1 : k - 1;
    const pi = pv[off + pk];
    const pj = pi - pk;
    while (i > pi + (down ? 0 : 1) && j > pj + (down ? 1 : 0)) out.push({ op: ' ', text: x[--i] }), j--;
    if (down) out.push({ op: '+', text: y[--j] });
    else out.push({ op: '-', text: x[--i] });
  }
  while (i > 0 && j > 0) out.push({ op: ' ', text: x[--i] }), j--;
  return out.reverse();
}

/** Stable JSON text for comparing: keys sorted, two-space indent. */
export function canonical(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === 'object') return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as any)[k])]));
    return x;
  };
  return JSON.stringify(sort(v), null, 2);
}
