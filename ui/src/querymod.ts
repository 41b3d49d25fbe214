// Edits of a LogQL query made by "filter for" / "filter out" and the label browser.

const STRING = String.raw`"(?:[^"\\]|\\.)*"|\x60[^\x60]*\x60`;

/** Position of the first stream selector's braces, skipping strings and comments. */
export function findSelector(q: string): { open: number; close: number } | null {
  let quote = '';
  let open = -1;
  for (let i = 0; i < q.length; i++) {
    const c = q[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === '`') quote = c;
    else if (c === '#') {
      const nl = q.indexOf('\n', i);
      if (nl < 0) break;
      i = nl;
    } else if (c === '{' && open < 0) open = i;
    else if (c === '}' && open >= 0) return { open, close: i };
  }
  return null;
}

const quote = (v: string) => JSON.stringify(v);

/** Adds (or replaces) a matcher `name op "value"` in the query's first selector. */
export function withStreamMatcher(q: string, name: string, op: '=' | '!=', value: string): string {
  const sel = findSelector(q);
  if (!sel) return `{${name}${op}${quote(value)}}`;
  const inner = q.slice(sel.open + 1, sel.close);
  const matchers = [...inner.matchAll(new RegExp(String.raw`\s*([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*(${STRING})\s*,?`, 'g'))].map((m) => ({ name: m[1], op: m[2], value: m[3] }));
  const m = `${name}${op}${quote(value)}`;
  let out: string[];
  const same = matchers.findIndex((x) => x.name === name && (x.op === op || (op === '=' && x.op === '=')));
  if (op === '=' && matchers.some((x) => x.name === name && x.op === '=')) out = matchers.map((x) => (x.name === name && x.op === '=' ? m : `${x.name}${x.op}${x.value}`));
  else if (same >= 0 && matchers[same].value === quote(value)) return q;
  else out = [...matchers.map((x) => `${x.name}${x.op}${x.value}`), m];
  return `${q.slice(0, sel.open)}{${out.join(', ')}}${q.slice(sel.close + 1)}`;
}

export const hasParser = (q: string, parser: string) => new RegExp(String.raw`\|\s*${parser}\b`).test(q);

/** Appends a label filter stage (after a parser, when the field comes from one the query lacks). */
export function withLabelFilter(q: string, name: string, op: '=' | '!=', value: string, parser?: 'json' | 'logfmt'): string {
  let out = q.trimEnd();
  if (parser && !/\|\s*(json|logfmt|pattern|regexp|unpack)\b/.test(out)) out += ` | ${parser}`;
  const stage = ` | ${name}${op}${quote(value)}`;
  if (out.endsWith(stage.trim())) return out;
  return out + stage;
}

/** A selector from picked label values: one value → `=`, several → `=~"a|b"`. */
export function buildSelector(picked: Record<string, string[]>): string {
  const parts = Object.entries(picked)
    .filter(([, v]) => v.length)
    .map(([k, v]) => (v.length === 1 ? `${k}=${quote(v[0])}` : `${k}=~${quote(v.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'))}`));
  return `{${parts.join(', ')}}`;
}

/** Fields of a line parsed client-side (json or logfmt), for lines whose query had no parser. */
export function parseLineFields(line: string): { parser: 'json' | 'logfmt'; fields: Record<string, string> } | null {
  const t = line.trim();
  if (t.startsWith('{') && t.endsWith('}')) {
    try {
      const obj = JSON.parse(t);
      const fields: Record<string, string> = {};
      const walk = (o: any, prefix: string) => {
        for (const [k, v] of Object.entries(o)) {
          const key = (prefix + k).replace(/[^\w]/g, '_');
          if (v && typeof v === 'object' && !Array.isArray(v)) walk(v, key + '_');
          else fields[key] = typeof v === 'string' ? v : JSON.stringify(v);
        }
      };
      walk(obj, '');
      return { parser: 'json', fields };
    } catch {
      return null;
    }
  }
  if (!t.includes('=')) return null;
  const fields: Record<string, string> = {};
  const re = /([\w.\-/]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)/g;
  for (const m of t.matchAll(re)) {
    let v = m[2];
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v);
      } catch {
        v = v.slice(1, -1);
      }
    }
    fields[m[1].replace(/[^\w]/g, '_')] = v;
  }
  return Object.keys(fields).length ? { parser: 'logfmt', fields } : null;
}
