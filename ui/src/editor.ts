// The LogQL editor: CodeMirror 6 with the lezer-logql grammar, highlighting, completion from the
// API, Ctrl+Enter to run and the server's parse error marked at its position.
import { EditorState, StateEffect, StateField, type Extension } from '@codemirror/state';
import { Decoration, EditorView, keymap, placeholder, type DecorationSet } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { LRLanguage, LanguageSupport, HighlightStyle, syntaxHighlighting, bracketMatching, syntaxTree, ensureSyntaxTree } from '@codemirror/language';
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, type Completion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { styleTags, tags as t } from '@lezer/highlight';
import { parser } from '@grafana/lezer-logql';
import { apiGet, CATEGORIZE } from './api';

const KEYWORDS =
  'Json Logfmt Unpack Pattern Regexp Unwrap LabelFormat LineFormat LabelReplace Vector Offset Bool On Ignoring GroupLeft GroupRight Decolorize Drop Keep By Without And Or Unless Ip';
const FUNCS =
  'Sum Avg Count Max Min Stddev Stdvar Bottomk Topk Sort Sort_Desc CountOverTime Rate RateCounter BytesOverTime BytesRate AvgOverTime SumOverTime MinOverTime MaxOverTime StddevOverTime StdvarOverTime QuantileOverTime FirstOverTime LastOverTime AbsentOverTime BytesConv DurationConv DurationSecondsConv';

const logqlLanguage = LRLanguage.define({
  name: 'logql',
  parser: parser.configure({
    props: [
      styleTags({
        [KEYWORDS]: t.keyword,
        [FUNCS]: t.function(t.variableName),
        'Identifier LabelName': t.labelName,
        String: t.string,
        'Number Duration Bytes Range': t.number,
        'Eq Neq Re Nre PipeExact PipeMatch PipePattern Npa Pipe Gtr Gte Lss Lte Eql Add Sub Mul Div Mod Pow': t.operator,
        LineComment: t.lineComment,
        '( )': t.paren,
        '{ }': t.brace,
        '[ ]': t.squareBracket,
      }),
    ],
  }),
  languageData: { commentTokens: { line: '#' }, closeBrackets: { brackets: ['(', '[', '{', '"', '`'] } },
});

const highlight = HighlightStyle.define([
  { tag: t.keyword, class: 'tk-kw' },
  { tag: t.function(t.variableName), class: 'tk-fn' },
  { tag: t.labelName, class: 'tk-label' },
  { tag: t.string, class: 'tk-str' },
  { tag: t.number, class: 'tk-num' },
  { tag: t.operator, class: 'tk-op' },
  { tag: t.lineComment, class: 'tk-comment' },
]);

/** True when the query parses as a metric query (or fails to parse and does not start with `{`). */
export function isMetric(q: string) {
  const tree = parser.parse(q);
  let metric: boolean | null = null;
  tree.iterate({
    enter: (n) => {
      if (metric !== null) return false;
      if (n.name === 'MetricExpr') metric = true;
      else if (n.name === 'LogExpr') metric = false;
    },
  });
  return metric ?? !/^\s*\{/.test(q.replace(/^\s*#.*$/gm, ''));
}

// ---- parse error decoration ----

const setErrorEffect = StateEffect.define<{ from: number; to: number } | null>();
const errorMark = Decoration.mark({ class: 'cm-error-mark' });
const errorField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) if (e.is(setErrorEffect)) deco = e.value ? Decoration.set([errorMark.range(e.value.from, e.value.to)]) : Decoration.none;
    if (tr.docChanged) deco = Decoration.none;
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

// ---- syntax hints while typing (client-side, from the lezer grammar) ----

const setHintEffect = StateEffect.define<{ from: number; to: number } | null>();
const hintMark = Decoration.mark({ class: 'cm-hint-mark', attributes: { title: 'LogQL syntax error here' } });
const hintField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) if (e.is(setHintEffect)) deco = e.value ? Decoration.set([hintMark.range(e.value.from, e.value.to)]) : Decoration.none;
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

/** The first syntax error of the document according to the grammar, as a range, or null. */
function firstSyntaxError(state: EditorState): { from: number; to: number } | null {
  const tree = ensureSyntaxTree(state, state.doc.length, 50) ?? syntaxTree(state);
  let err: { from: number; to: number } | null = null;
  tree.iterate({
    enter: (n) => {
      if (err) return false;
      if (n.type.isError) {
        const from = Math.min(n.from, Math.max(0, state.doc.length - 1));
        err = { from, to: Math.max(n.to, Math.min(from + 1, state.doc.length)) };
        return false;
      }
    },
  });
  return err;
}

// ---- completion ----

const STAGES: [string, string][] = [
  ['json', 'parse the line as JSON'],
  ['logfmt', 'parse key=value pairs'],
  ['pattern', 'extract with a pattern: "<ip> - <_>"'],
  ['regexp', 'extract with named groups'],
  ['unpack', 'unpack Promtail packed lines'],
  ['line_format', 'rewrite the line with a template'],
  ['label_format', 'rename or template labels'],
  ['decolorize', 'strip ANSI colours'],
  ['drop', 'drop labels'],
  ['keep', 'keep only these labels'],
  ['unwrap', 'use a label as the sample value'],
];
const LINE_FILTERS: [string, string][] = [
  ['= ""', 'line contains'],
  ['~ ""', 'line matches regex'],
];
const RANGE_FUNCS = ['count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'sum_over_time', 'avg_over_time', 'min_over_time', 'max_over_time', 'quantile_over_time', 'first_over_time', 'last_over_time', 'absent_over_time', 'stddev_over_time', 'stdvar_over_time', 'rate_counter'];
const AGG_FUNCS = ['sum', 'avg', 'min', 'max', 'count', 'topk', 'bottomk', 'stddev', 'stdvar', 'sort', 'sort_desc'];

export interface EditorDeps {
  range: () => { start: string; end: string };
}

const cache = new Map<string, { at: number; value: Promise<string[]> }>();
function cached(key: string, load: () => Promise<string[]>): Promise<string[]> {
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < 30_000) return hit.value;
  const value = load().catch(() => [] as string[]);
  cache.set(key, { at: Date.now(), value });
  return value;
}

const HIDDEN = new Set(['__aggregated_metric__', '__tenant_id__', '__stream_shard__']);

function labelNames(deps: EditorDeps) {
  const r = deps.range();
  return cached(`labels`, async () => ((await apiGet('/loki/api/v1/labels', r)).data ?? []).filter((l: string) => !HIDDEN.has(l)));
}
function labelValues(deps: EditorDeps, name: string, query?: string) {
  const r = deps.range();
  return cached(`values:${name}:${query ?? ''}`, async () => (await apiGet(`/loki/api/v1/label/${encodeURIComponent(name)}/values`, { ...r, query })).data ?? []);
}

/** The other complete positive matchers of the selector being typed, as a selector, to narrow value suggestions. */
function otherMatchers(text: string, selStart: number, name: string): string | undefined {
  const inner = text.slice(selStart + 1);
  const ms = [...inner.matchAll(/([A-Za-z_]\w*)\s*(=|=~)\s*("(?:[^"\\]|\\.)*"|`[^`]*`)/g)].filter((m) => m[1] !== name && m[3].length > 2);
  return ms.length ? `{${ms.map((m) => `${m[1]}${m[2]}${m[3]}`).join(', ')}}` : undefined;
}

/** Field names (parsed and structured metadata) of a sample of the log query's lines. */
export function sampleFields(deps: EditorDeps, logQuery: string): Promise<string[]> {
  return cached(`fields:${logQuery}`, async () => {
    const r = deps.range();
    const res = await apiGet('/loki/api/v1/query_range', { query: logQuery, limit: 50, direction: 'backward', ...r }, { headers: CATEGORIZE });
    const keys = new Set<string>();
    for (const s of res.data?.result ?? [])
      for (const v of s.values ?? []) {
        for (const k of Object.keys(v[2]?.parsed ?? {})) keys.add(k);
        for (const k of Object.keys(v[2]?.structuredMetadata ?? {})) keys.add(k);
      }
    keys.delete('__error__');
    keys.delete('__error_details__');
    return [...keys].sort();
  });
}

/** Scans text up to the cursor: inside braces? inside a string? and where the current selector starts. */
function scan(text: string) {
  let depth = 0, quote = '', strStart = -1, selStart = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === '`') (quote = c), (strStart = i);
    else if (c === '#') {
      const nl = text.indexOf('\n', i);
      if (nl < 0) return { inBrace: false, inString: false, comment: true, strStart, selStart };
      i = nl;
    } else if (c === '{') {
      if (depth === 0) selStart = i;
      depth++;
    } else if (c === '}') depth = Math.max(0, depth - 1);
  }
  return { inBrace: depth > 0, inString: quote !== '', comment: false, strStart, selStart };
}

/** The log expression that ends at the cursor (for sampling parsed fields): from the selector, without the trailing stage. */
function logExprBefore(text: string, selStart: number) {
  if (selStart < 0) return null;
  let s = text.slice(selStart).replace(/\|\s*[\w.]*\s*$/, '').replace(/\[[^\]]*$/, '').trim();
  // Close a metric query's open brackets: we only need the log part.
  const paren = s.indexOf(')');
  if (paren >= 0) s = s.slice(0, paren);
  return s.replace(/\[[^\]]*\]\s*$/, '').trim();
}

function makeSource(deps: EditorDeps) {
  return async (ctx: CompletionContext): Promise<CompletionResult | null> => {
    const text = ctx.state.sliceDoc(0, ctx.pos);
    const sc = scan(text);
    if (sc.comment) return null;
    if (sc.inBrace) {
      if (sc.inString) {
        const m = /([A-Za-z_][\w]*)\s*(=|!=|=~|!~)\s*"([^"]*)$/.exec(text);
        if (!m) return null;
        const vals = await labelValues(deps, m[1], otherMatchers(text.slice(0, text.length - m[0].length), sc.selStart, m[1]));
        const re = m[2].includes('~');
        return { from: ctx.pos - m[3].length, options: vals.map((v) => ({ label: v, apply: (re ? v.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&') : v.replace(/[\\"]/g, '\\$&')), type: 'text' })), validFor: /^[^"]*$/ };
      }
      const mv = /([A-Za-z_][\w]*)\s*(=|!=|=~|!~)\s*$/.exec(text);
      if (mv) {
        const vals = await labelValues(deps, mv[1], otherMatchers(text.slice(0, text.length - mv[0].length), sc.selStart, mv[1]));
        return { from: ctx.pos, options: vals.map((v) => ({ label: JSON.stringify(v), type: 'text' })) };
      }
      const ml = /[{,]\s*([\w]*)$/.exec(text);
      if (ml) {
        const names = await labelNames(deps);
        return { from: ctx.pos - ml[1].length, options: names.map((n) => ({ label: n, type: 'property', apply: `${n}=` })), validFor: /^\w*$/ };
      }
      return null;
    }
    if (sc.inString) return null;
    const mb = /\b(by|without)\s*\(([\w\s,]*?)(\w*)$/.exec(text);
    if (mb) {
      const names = await labelNames(deps);
      const le = logExprBefore(text, sc.selStart);
      const fields = le && /\|\s*(json|logfmt|pattern|regexp|unpack)/.test(le) ? await sampleFields(deps, le) : ['detected_level'];
      const all = [...new Set([...names, ...fields])];
      return { from: ctx.pos - mb[3].length, options: all.map((n) => ({ label: n, type: 'property' })), validFor: /^\w*$/ };
    }
    const mp = /\|\s*(\w*)$/.exec(text);
    if (mp) {
      const from = ctx.pos - mp[1].length;
      const options: Completion[] = STAGES.map(([l, d]) => ({ label: l, detail: d, type: 'keyword' }));
      if (mp[0] === '|') for (const [l, d] of LINE_FILTERS) options.push({ label: l, detail: d, type: 'keyword', apply: (view, _c, f, to) => { view.dispatch({ changes: { from: f, to, insert: l }, selection: { anchor: f + l.length - 1 } }); } });
      const le = logExprBefore(text, sc.selStart);
      if (le) {
        for (const f of await sampleFields(deps, le)) options.push({ label: f, detail: 'field', type: 'property', boost: 1 });
      }
      return { from, options, validFor: /^\w*$/ };
    }
    const mf = /\|\s*([A-Za-z_]\w*)\s*(=|!=|=~|!~)\s*"?([^"]*)$/.exec(text);
    if (mf && sc.selStart >= 0) return null;
    const mw = /(^|[\s(,])(\w*)$/.exec(text);
    if (mw && (mw[2].length > 0 || ctx.explicit)) {
      const from = ctx.pos - mw[2].length;
      const options: Completion[] = [
        ...RANGE_FUNCS.map((f) => ({ label: f, type: 'function', detail: 'range', apply: `${f}(` })),
        ...AGG_FUNCS.map((f) => ({ label: f, type: 'function', detail: 'aggregation' })),
        ...['by', 'without', 'offset', 'bool', 'on', 'ignoring', 'and', 'or', 'unless'].map((k) => ({ label: k, type: 'keyword' })),
      ];
      return { from, options, validFor: /^\w*$/ };
    }
    return null;
  };
}

export interface QueryEditor {
  view: EditorView;
  get: () => string;
  set: (q: string) => void;
  markError: (line?: number, col?: number) => void;
  focus: () => void;
}

export function createEditor(parent: HTMLElement, doc: string, deps: EditorDeps & { onRun: () => void; onChange: (q: string) => void; onHint?: (col: { line: number; col: number } | null) => void }): QueryEditor {
  let hintTimer: number | undefined;
  const lint = (view: EditorView) => {
    const e = view.state.doc.length ? firstSyntaxError(view.state) : null;
    view.dispatch({ effects: setHintEffect.of(e) });
    if (e) {
      const l = view.state.doc.lineAt(e.from);
      deps.onHint?.({ line: l.number, col: e.from - l.from + 1 });
    } else deps.onHint?.(null);
  };
  const extensions: Extension[] = [
    history(),
    closeBrackets(),
    bracketMatching(),
    new LanguageSupport(logqlLanguage),
    syntaxHighlighting(highlight),
    autocompletion({ override: [makeSource(deps)], icons: false, activateOnTyping: true }),
    errorField,
    hintField,
    placeholder('{app="my-app"} |= "error"   (Ctrl+Enter runs, / focuses)'),
    EditorView.lineWrapping,
    keymap.of([{ key: 'Mod-Enter', run: () => (deps.onRun(), true), preventDefault: true }, { key: 'Shift-Enter', run: () => (deps.onRun(), true) }, ...closeBracketsKeymap, ...completionKeymap, ...historyKeymap, ...defaultKeymap]),
    EditorView.updateListener.of((u) => {
      if (u.docChanged) {
        deps.onChange(u.state.doc.toString());
        clearTimeout(hintTimer);
        if (u.state.field(hintField).size) u.view.dispatch({ effects: setHintEffect.of(null) });
        hintTimer = window.setTimeout(() => lint(u.view), 700);
      }
    }),
    EditorView.contentAttributes.of({ 'aria-label': 'LogQL query', 'data-testid': 'query-input' }),
  ];
  const view = new EditorView({ state: EditorState.create({ doc, extensions }), parent });
  return {
    view,
    get: () => view.state.doc.toString(),
    set: (q) => {
      if (q !== view.state.doc.toString()) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: q } });
    },
    markError: (line, col) => {
      if (!line || !col) return view.dispatch({ effects: setErrorEffect.of(null) });
      const doc = view.state.doc;
      const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
      let from = Math.min(l.from + col - 1, doc.length);
      let to = from;
      while (to < l.to && !/\s/.test(doc.sliceString(to, to + 1))) to++;
      if (to === from) {
        if (from >= doc.length && from > 0) from--;
        to = Math.min(from + 1, doc.length);
      }
      if (to > from) view.dispatch({ effects: setErrorEffect.of({ from, to }) });
    },
    focus: () => view.focus(),
  };
}
