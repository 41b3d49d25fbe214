// The dashboard editor's pure parts, compiled with the UI's TypeScript: the 24-column grid's
// placement (push down, float up, rows folding their panels), Grafana's export for sharing
// (`${DS_...}` inputs) and import, and the line diff of two versions.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { repoRoot } from './helpers.mjs';

const load = async (f) => {
  const src = readFileSync(join(repoRoot, 'ui/src/dashboards/edit', f), 'utf8');
  const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  return import(`data:text/javascript,${encodeURIComponent(js)}`);
};
const L = await load('layout.ts');
const S = await load('share.ts');
const D = await load('diff.ts');

const P = (id, x, y, w, h, type = 'timeseries') => ({ id, type, gridPos: { x, y, w, h } });
const pos = (ps) => Object.fromEntries(ps.map((p) => [p.id, [p.gridPos.x, p.gridPos.y, p.gridPos.w, p.gridPos.h]]));

it('adds a panel at the top and pushes the others down', () => {
  const { panels, id } = L.addPanel([P(1, 0, 0, 12, 8), P(2, 12, 0, 12, 8)], { type: 'stat' });
  assert.equal(id, 3);
  assert.deepEqual(pos(panels), { 3: [0, 0, 12, 8], 1: [0, 8, 12, 8], 2: [12, 0, 12, 8] });
});

it('moving onto a panel pushes it down; everything floats up; positions stay in the grid', () => {
  const start = [P(1, 0, 0, 12, 8), P(2, 12, 0, 12, 8), P(3, 0, 8, 24, 4)];
  assert.deepEqual(pos(L.movePanel(start, 3, 0, 0)), { 3: [0, 0, 24, 4], 1: [0, 4, 12, 8], 2: [12, 4, 12, 8] });
  assert.deepEqual(pos(L.movePanel(start, 2, 30, 50)), { 1: [0, 0, 12, 8], 2: [12, 12, 12, 8], 3: [0, 8, 24, 4] }, 'clamped right, floated up to under the full-width panel');
  assert.deepEqual(pos(L.resizePanel(start, 1, 18, 4)), { 1: [0, 0, 18, 4], 2: [12, 4, 12, 8], 3: [0, 12, 24, 4] });
});

it('duplicates right of the original when there is room, else under it; deletes and compacts', () => {
  const d = L.duplicatePanel([P(1, 0, 0, 12, 8)], 1);
  assert.deepEqual(pos(d.panels), { 1: [0, 0, 12, 8], 2: [12, 0, 12, 8] });
  const d2 = L.duplicatePanel(d.panels, 2);
  assert.deepEqual(pos(d2.panels)[3], [12, 8, 12, 8]);
  assert.deepEqual(pos(L.removePanel(d2.panels, 2)), { 1: [0, 0, 12, 8], 3: [12, 0, 12, 8] });
});

it('rows fold the panels under them and unfold them back, pushing what follows down', () => {
  const ps = [P(1, 0, 0, 24, 1, 'row'), P(2, 0, 1, 12, 8), P(3, 12, 1, 12, 8), P(4, 0, 9, 24, 1, 'row'), P(5, 0, 10, 24, 6)];
  const folded = L.toggleRow(ps, 1);
  const row = folded.find((p) => p.id === 1);
  assert.equal(row.collapsed, true);
  assert.deepEqual(row.panels.map((p) => p.id).sort(), [2, 3]);
  assert.deepEqual(pos(folded), { 1: [0, 0, 24, 1], 4: [0, 1, 24, 1], 5: [0, 2, 24, 6] });
  const back = L.toggleRow(folded, 1);
  assert.deepEqual(pos(back), pos(ps));
  assert.equal(L.nextId(folded), 6, 'ids count the folded panels');
  assert.deepEqual(pos(L.removePanel(ps, 1)), { 4: [0, 0, 24, 1], 5: [0, 1, 24, 6] }, 'a row goes with its panels');
  const withRow = L.addRow([P(1, 0, 0, 12, 8)]);
  assert.deepEqual(pos(withRow.panels), { 2: [0, 0, 24, 1], 1: [0, 1, 12, 8] });
});

it('snaps pixel offsets to grid cells', () => {
  // 24 columns in 1192 px with 8 px gaps: 42 px columns, 50 px per step.
  assert.deepEqual(L.snap(124, 80, 1192), { dx: 2, dy: 2 });
  assert.deepEqual(L.snap(-20, 10, 1192), { dx: -0, dy: 0 });
  assert.deepEqual(L.toPixels({ x: 1, y: 1, w: 2, h: 2 }, 1192), { left: 50, top: 38, width: 92, height: 68 });
});

const DS = [
  { uid: 'bitacora', name: 'Bitácora', type: 'loki', isDefault: true },
  { uid: 'prom1', name: 'Prometheus', type: 'prometheus' },
];

it('exports for sharing externally with ${DS_...} inputs and imports them back onto chosen data sources', () => {
  const dash = {
    id: 7, uid: 'abc', title: 'T', version: 3,
    panels: [
      { id: 1, type: 'timeseries', gridPos: { x: 0, y: 0, w: 12, h: 8 }, targets: [{ refId: 'A', expr: 'rate({app="x"}[1m])' }] },
      { id: 2, type: 'stat', datasource: { type: 'prometheus', uid: 'prom1' }, gridPos: { x: 12, y: 0, w: 12, h: 8 }, targets: [{ refId: 'A', expr: 'up', datasource: { type: 'prometheus', uid: 'prom1' } }] },
      { id: 3, type: 'row', collapsed: true, gridPos: { x: 0, y: 8, w: 24, h: 1 }, panels: [{ id: 4, type: 'logs', datasource: 'Bitácora', gridPos: { x: 0, y: 9, w: 24, h: 8 } }] },
      { id: 5, type: 'logs', datasource: { uid: '${ds}' }, gridPos: { x: 0, y: 9, w: 24, h: 8 } },
    ],
    templating: { list: [{ type: 'query', name: 'app', datasource: { type: 'loki', uid: 'bitacora' }, query: 'label_values(app)', current: { text: 'x', value: 'x' }, options: [{ text: 'x' }] }] },
  };
  const ex = S.externalize(dash, DS);
  assert.deepEqual(ex.__inputs.map((i) => [i.name, i.pluginId, i.label]), [['DS_BIT_CORA', 'loki', 'Bitácora'], ['DS_PROMETHEUS', 'prometheus', 'Prometheus']]);
  assert.equal(ex.id, null);
  assert.equal(ex.version, undefined);
  assert.deepEqual(ex.panels[0].datasource, { type: 'loki', uid: '${DS_BIT_CORA}' });
  assert.deepEqual(ex.panels[1].targets[0].datasource, { type: 'prometheus', uid: '${DS_PROMETHEUS}' });
  assert.deepEqual(ex.panels[2].panels[0].datasource, { type: 'loki', uid: '${DS_BIT_CORA}' }, 'a folded row panel, named by name');
  assert.deepEqual(ex.panels[3].datasource, { uid: '${ds}' }, 'a data source variable stays');
  assert.deepEqual(ex.templating.list[0].datasource, { type: 'loki', uid: '${DS_BIT_CORA}' });
  assert.deepEqual(ex.templating.list[0].current, {});
  assert.ok(ex.__requires.some((r) => r.type === 'datasource' && r.id === 'prometheus'));
  assert.equal(dash.panels[0].datasource, undefined, 'the input is not changed');

  const parsed = S.parseDashboard(JSON.stringify(ex));
  assert.deepEqual(S.importInputs(parsed).map((i) => i.name), ['DS_BIT_CORA', 'DS_PROMETHEUS']);
  const im = S.applyInputs(parsed, { DS_BIT_CORA: 'lokiB', DS_PROMETHEUS: 'promB' });
  assert.equal(im.__inputs, undefined);
  assert.equal(im.__requires, undefined);
  assert.deepEqual(im.panels[0].datasource, { type: 'loki', uid: 'lokiB' });
  assert.deepEqual(im.panels[1].targets[0].datasource, { type: 'prometheus', uid: 'promB' });
  assert.deepEqual(im.panels[3].datasource, { uid: '${ds}' });
  assert.equal(im.panels[0].targets[0].expr, 'rate({app="x"}[1m])');
});

it('says what is wrong with text that is not a dashboard', () => {
  assert.match(S.parseDashboard('{nope'), /not JSON/);
  assert.match(S.parseDashboard('[1]'), /JSON object/);
  assert.match(S.parseDashboard('{"title":"x"}'), /no "panels"/);
  assert.match(S.parseDashboard('{"title":"x","panels":{}}'), /must be a list/);
  assert.equal(S.parseDashboard('{"dashboard":{"title":"x","panels":[]},"meta":{}}').title, 'x', 'the API answer shape is accepted');
  assert.match(S.newUid(), /^[A-Za-z0-9]{14}$/);
  assert.equal(S.inputName('my-prom 2'), 'DS_MY_PROM_2');
});

it('diffs two JSON texts line by line and gives up past the bound', () => {
  const a = D.canonical({ b: 1, a: [1, 2] });
  const b = D.canonical({ a: [1, 3], b: 1 });
  const d = D.diffLines(a, b);
  assert.deepEqual(d.filter((l) => l.op !== ' '), [{ op: '-', text: '    2' }, { op: '+', text: '    3' }]);
  assert.equal(d.filter((l) => l.op === ' ').length, a.split('\n').length - 1);
  const big1 = Array.from({ length: 300 }, (_, i) => `a${i}`).join('\n');
  const big2 = Array.from({ length: 300 }, (_, i) => `b${i}`).join('\n');
  assert.equal(D.diffLines(big1, big2, 100), null);
  assert.equal(D.diffLines(big1, big2, 1000).length, 600);
});
