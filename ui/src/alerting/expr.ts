// An alerting rule's expr as the form shows it: a query, a comparison and a threshold. Splitting
// only happens at a comparison with a number at the very end and outside every bracket, string and
// comment, and never when the query part holds a top-level `and`, `or` or `unless` (those bind
// looser than the comparison, so splitting would change the meaning).

export const OPS = ['>', '<', '>=', '<=', '==', '!='] as const;
export type Op = (typeof OPS)[number];

export interface Condition {
  query: string;
  op: Op | '';
  threshold: string;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Top-level positions of the text: for each index, true when outside brackets, strings and comments. */
function topLevel(text: string): boolean[] {
  const top: boolean[] = new Array(text.length).fill(false);
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === '`' || c === "'") {
      quote = c;
      continue;
    }
    if (c === '#') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
      continue;
    }
    if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth = Math.max(0, depth - 1);
    else top[i] = depth === 0;
  }
  return top;
}

export function splitExpr(expr: string): Condition {
  const whole: Condition = { query: expr.trim(), op: '', threshold: '' };
  const text = expr.trimEnd();
  const top = topLevel(text);
  // The last top-level comparison operator.
  for (let i = text.length - 1; i > 0; i--) {
    if (!top[i]) continue;
    const two = text.slice(i - 1, i + 1);
    let op: string | null = null;
    let at = i;
    if ((two === '>=' || two === '<=' || two === '==' || two === '!=') && top[i - 1]) {
      op = two;
      at = i - 1;
    } else if ((text[i] === '>' || text[i] === '<') && text[i + 1] !== '=') op = text[i];
    if (!op) continue;
    const threshold = text.slice(i + 1).trim();
    if (!NUMBER.test(threshold)) return whole;
    const query = text.slice(0, at).trim();
    if (!query) return whole;
    const qtop = topLevel(query);
    const words = /\b(and|or|unless)\b/gi;
    for (let m = words.exec(query); m; m = words.exec(query)) if (qtop[m.index]) return whole;
    // `x > bool 5` and friends stay whole: the form has no place for modifiers.
    if (/\bbool\s*$/i.test(query)) return whole;
    return { query, op: op as Op, threshold };
  }
  return whole;
}

export function joinExpr(c: Condition) {
  const q = c.query.trim();
  return c.op && c.threshold.trim() !== '' ? `${q} ${c.op} ${c.threshold.trim()}` : q;
}

export function validThreshold(t: string) {
  return NUMBER.test(t.trim());
}
