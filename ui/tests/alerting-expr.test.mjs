// The rule form's split of an alerting rule's expr into query, comparison and threshold
// (ui/src/alerting/expr.ts, compiled here with the TypeScript the UI builds with).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { repoRoot } from './helpers.mjs';

const src = readFileSync(join(repoRoot, 'ui/src/alerting/expr.ts'), 'utf8');
const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
const { splitExpr, joinExpr } = await import(`data:text/javascript,${encodeURIComponent(js)}`);

it('splits a trailing top-level comparison with a number', () => {
  assert.deepEqual(splitExpr('sum(rate({app="web"}[5m])) > 5'), { query: 'sum(rate({app="web"}[5m]))', op: '>', threshold: '5' });
  assert.deepEqual(splitExpr('  sum by (app) (count_over_time({app="web"}[1m]))  >=  0.5 '), { query: 'sum by (app) (count_over_time({app="web"}[1m]))', op: '>=', threshold: '0.5' });
  assert.deepEqual(splitExpr('rate({a="b"}[1m]) != -1e3'), { query: 'rate({a="b"}[1m])', op: '!=', threshold: '-1e3' });
  assert.deepEqual(splitExpr('rate({a="b"}[1m]) + 2 == 7'), { query: 'rate({a="b"}[1m]) + 2', op: '==', threshold: '7' });
  assert.deepEqual(splitExpr('rate({a="b"}[1m]) <= 1'), { query: 'rate({a="b"}[1m])', op: '<=', threshold: '1' });
  assert.deepEqual(splitExpr('rate({a="b"}[1m]) < 1'), { query: 'rate({a="b"}[1m])', op: '<', threshold: '1' });
});

it('keeps the whole expr when the comparison is not top-level, not with a number, or would change meaning', () => {
  const whole = (e) => assert.deepEqual(splitExpr(e), { query: e.trim(), op: '', threshold: '' }, e);
  whole('count_over_time({app="web"} | json | status > 500 [5m])');
  whole('sum(count_over_time({app="web"} |= "a > 3" [5m]))');
  whole('rate({a="b"}[1m]) > rate({a="c"}[1m])');
  whole('rate({a="b"}[1m]) > 1 and rate({a="c"}[1m]) < 3');
  whole('rate({a="b"}[1m]) > bool 5');
  whole('rate({a="b"}[1m]) > 0.5 * 2');
  whole('sum(rate({a="b"}[1m]))');
  whole('> 5');
});

it('joins back to the same expr', () => {
  for (const e of ['sum(rate({app="web"}[5m])) > 5', 'rate({a="b"}[1m]) <= 1']) assert.equal(joinExpr(splitExpr(e)), e);
  assert.equal(joinExpr({ query: 'x', op: '>', threshold: '' }), 'x');
});
