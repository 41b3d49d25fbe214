// ANSI SGR colours and search-match highlighting, rendered to escaped HTML.

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));

interface Seg {
  text: string;
  cls: string;
}

const ANSI_RE = /\x1b\[([0-9;]*)m/g;

export function stripAnsi(s: string) {
  return s.includes('\x1b') ? s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '') : s;
}

function ansiSegments(line: string): Seg[] {
  if (!line.includes('\x1b')) return [{ text: line, cls: '' }];
  const out: Seg[] = [];
  let fg = '', bg = '', bold = false, last = 0;
  const push = (t: string) => {
    if (t) out.push({ text: t, cls: [fg, bg, bold ? 'ab' : ''].filter(Boolean).join(' ') });
  };
  for (const m of line.matchAll(ANSI_RE)) {
    push(line.slice(last, m.index));
    last = m.index! + m[0].length;
    const codes = m[1] === '' ? [0] : m[1].split(';').map(Number);
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      if (c === 0) (fg = ''), (bg = ''), (bold = false);
      else if (c === 1) bold = true;
      else if (c === 22) bold = false;
      else if ((c >= 30 && c <= 37) || (c >= 90 && c <= 97)) fg = `af${c}`;
      else if (c === 39) fg = '';
      else if ((c >= 40 && c <= 47) || (c >= 100 && c <= 107)) bg = `ab${c}`;
      else if (c === 49) bg = '';
      else if ((c === 38 || c === 48) && codes[i + 1] === 5) i += 2;
      else if ((c === 38 || c === 48) && codes[i + 1] === 2) i += 4;
    }
  }
  push(line.slice(last));
  return out.map((s) => ({ ...s, text: s.text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '') }));
}

/** Regular expressions for the positive line filters (`|=`, `|~`) of a query, to highlight matches. */
export function matchPatterns(query: string): RegExp[] {
  const str = String.raw`(?:"(?:[^"\\]|\\.)*"|\x60[^\x60]*\x60)`;
  const re = new RegExp(String.raw`\|([=~])\s*(${str}(?:\s+or\s+${str})*)`, 'g');
  const out: RegExp[] = [];
  for (const m of query.matchAll(re)) {
    for (const lit of m[2].match(new RegExp(str, 'g')) ?? []) {
      let v: string;
      try {
        v = lit[0] === '`' ? lit.slice(1, -1) : JSON.parse(lit);
      } catch {
        continue;
      }
      if (!v) continue;
      try {
        if (m[1] === '=') out.push(new RegExp(v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g'));
        else {
          const ci = v.startsWith('(?i)');
          out.push(new RegExp(ci ? v.slice(4) : v, ci ? 'gi' : 'g'));
        }
      } catch {}
    }
  }
  return out;
}

/** The line as HTML: ANSI colours as classes, matches of `patterns` in <mark>. */
export function renderLine(line: string, patterns: RegExp[]): string {
  const segs = ansiSegments(line);
  const plain = segs.map((s) => s.text).join('');
  const marks: [number, number][] = [];
  for (const p of patterns) {
    p.lastIndex = 0;
    let m: RegExpExecArray | null;
    let guard = 0;
    while ((m = p.exec(plain)) && guard++ < 1000) {
      if (m[0].length === 0) {
        p.lastIndex++;
        continue;
      }
      marks.push([m.index, m.index + m[0].length]);
    }
  }
  if (!marks.length && segs.length === 1 && !segs[0].cls) return esc(plain);
  marks.sort((a, b) => a[0] - b[0]);
  const inMark = new Uint8Array(plain.length);
  for (const [a, b] of marks) inMark.fill(1, a, b);
  let html = '';
  let pos = 0;
  for (const s of segs) {
    let chunk = '';
    let i = 0;
    while (i < s.text.length) {
      const on = inMark[pos + i];
      let j = i;
      while (j < s.text.length && inMark[pos + j] === on) j++;
      const t = esc(s.text.slice(i, j));
      chunk += on ? `<mark>${t}</mark>` : t;
      i = j;
    }
    pos += s.text.length;
    html += s.cls ? `<span class="${s.cls}">${chunk}</span>` : chunk;
  }
  return html;
}
