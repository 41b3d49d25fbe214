// Grafana's interpolation of template variables and built-in intervals, and its unit formatting
// (ui/src/dashboards/interpolate.ts and units.ts, compiled here with the UI's TypeScript).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { repoRoot } from './helpers.mjs';

async function load(file) {
  const src = readFileSync(join(repoRoot, 'ui/src/dashboards', file), 'utf8');
  const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  return import(`data:text/javascript,${encodeURIComponent(js)}`);
}
const I = await load('interpolate.ts');
const U = await load('units.ts');

const vars = {
  app: { value: ['web'], text: ['web'] },
  multi: { value: ['a.b', 'c'], multi: true, options: ['a.b', 'c', 'd'] },
  all: { value: ['$__all'], multi: true, includeAll: true, options: ['x', 'y'] },
  allc: { value: ['$__all'], includeAll: true, allValue: '.+', options: ['x', 'y'] },
  none: { value: ['$__all'], includeAll: true, options: [] },
};

describe('interpolate', () => {
  it('replaces $var, ${var} and [[var]]; leaves unknown names', () => {
    assert.equal(I.interpolate('{app="$app"} ${app} [[app]] $nope ${nope}', vars), '{app="web"} web web $nope ${nope}');
    assert.equal(I.interpolate('$application', vars), '$application');
  });
  it('formats :regex, :pipe, :csv, :raw, :json, :glob, :queryparam, :text', () => {
    assert.equal(I.interpolate('${multi:regex}', vars), '(a\\.b|c)');
    assert.equal(I.interpolate('${app:regex}', vars), 'web');
    assert.equal(I.interpolate('${multi:pipe}', vars), 'a.b|c');
    assert.equal(I.interpolate('${multi:csv}', vars), 'a.b,c');
    assert.equal(I.interpolate('${multi:raw}', vars), 'a.b,c');
    assert.equal(I.interpolate('${multi:json}', vars), '["a.b","c"]');
    assert.equal(I.interpolate('${multi:glob}', vars), '{a.b,c}');
    assert.equal(I.interpolate('${multi:queryparam}', vars), 'var-multi=a.b&var-multi=c');
    assert.equal(I.interpolate('[[multi:csv]]', vars), 'a.b,c');
    assert.equal(I.interpolate('${all:text}', vars), 'All');
  });
  it('All: every value, or the custom all value as it is, or .* when there are none', () => {
    assert.equal(I.interpolate('${all:pipe}', vars), 'x|y');
    assert.equal(I.interpolate('{app=~"$all"}', vars, 'loki'), '{app=~"(x|y)"}');
    assert.equal(I.interpolate('{app=~"$allc"}', vars, 'prometheus'), '{app=~".+"}');
    assert.equal(I.interpolate('${allc:regex}', vars), '.+');
    assert.equal(I.interpolate('{app=~"$none"}', vars, 'loki'), '{app=~".*"}');
  });
  it('multi-value default format for Prometheus and Loki escapes regex characters for a double-quoted string', () => {
    assert.equal(I.interpolate('{a=~"$multi"}', vars, 'prometheus'), '{a=~"(a\\\\.b|c)"}');
    assert.equal(I.interpolate('{a=~"$multi"}', vars, 'loki'), '{a=~"(a\\\\.b|c)"}');
    assert.equal(I.interpolate('{a="$app"}', vars, 'loki'), '{a="web"}');
  });
  it('rounds intervals as Grafana does', () => {
    assert.equal(I.roundInterval(14), 10);
    assert.equal(I.roundInterval(1400), 1000);
    assert.equal(I.roundInterval(60000), 60000);
    assert.equal(I.roundInterval(86400000 / 1000), 60000); // 24 h over 1000 points: 86.4 s → 1m
    assert.equal(I.roundInterval(21600000 / 1000), 20000); // 6 h over 1000 points: 21.6 s → 20s
    assert.equal(I.msToInterval(60000), '1m');
    assert.equal(I.msToInterval(20000), '20s');
    assert.equal(I.msToInterval(500), '500ms');
    assert.equal(I.msToInterval(7200000), '2h');
  });
  it('$__interval, $__auto, $__range, $__rate_interval from the range, maxDataPoints and min interval', () => {
    const from = 0, to = 6 * 3600e3;
    const b = I.builtinVars({ from, to, maxDataPoints: 1000 });
    assert.equal(I.interpolate('$__interval $__interval_ms $__auto', b), '20s 20000 20s');
    assert.equal(I.interpolate('$__range $__range_s $__range_ms', b), '21600s 21600 21600000');
    // max($__interval + scrape, 4 * scrape) with Grafana's default 15s scrape interval
    assert.equal(I.interpolate('$__rate_interval', b), '1m');
    assert.equal(I.interpolate('$__rate_interval', I.builtinVars({ from, to: 24 * 3600e3, maxDataPoints: 100 })), '15m');
    assert.equal(I.interpolate('$__interval', I.builtinVars({ from, to, maxDataPoints: 1000, minInterval: '>1m' })), '1m');
    assert.equal(I.interpolate('$__auto', I.builtinVars({ from, to, maxDataPoints: 1000, instant: true })), '21600s');
    assert.equal(I.interpolate('count_over_time({a="b"}[$__auto])', b), 'count_over_time({a="b"}[20s])');
  });
  it('lists the variables a text refers to', () => {
    assert.deepEqual(I.references('label_values({app="$app", x="${env:regex}"}, [[pod]])'), ['app', 'env', 'pod']);
  });
});

describe('units', () => {
  it('short, none, percent, percentunit', () => {
    assert.equal(U.formatValue(1500, 'short'), '1.50 K');
    assert.equal(U.formatValue(1234567, 'short'), '1.23 Mil');
    assert.equal(U.formatValue(42, 'short'), '42');
    assert.equal(U.formatValue(0.5, 'none'), '0.500');
    assert.equal(U.formatValue(12.345, 'percent', 1), '12.3%');
    assert.equal(U.formatValue(0.25, 'percentunit'), '25%');
    assert.equal(U.formatValue(0.255, 'percentunit', 1), '25.5%');
  });
  it('bytes (IEC), decbytes (SI), bits', () => {
    assert.equal(U.formatValue(1536, 'bytes'), '1.50 KiB');
    assert.equal(U.formatValue(1048576, 'bytes'), '1 MiB');
    assert.equal(U.formatValue(1500, 'decbytes'), '1.50 kB');
    assert.equal(U.formatValue(512, 'bytes'), '512 B');
    assert.equal(U.formatValue(2048, 'bits'), '2 Kib');
  });
  it('s, ms, µs, ns move to larger units', () => {
    assert.equal(U.formatValue(90, 's'), '1.50 min');
    assert.equal(U.formatValue(0.25, 's'), '250 ms');
    assert.equal(U.formatValue(7200, 's'), '2 hour');
    assert.equal(U.formatValue(1500, 'ms'), '1.50 s');
    assert.equal(U.formatValue(250, 'ms'), '250 ms');
    assert.equal(U.formatValue(1500, 'µs'), '1.50 ms');
    assert.equal(U.formatValue(2500000, 'ns'), '2.50 ms');
  });
  it('rates and custom units', () => {
    assert.equal(U.formatValue(1500, 'reqps'), '1.50K req/s');
    assert.equal(U.formatValue(5, 'reqps'), '5 req/s');
    assert.equal(U.formatValue(3, 'ops'), '3 ops/s');
    assert.equal(U.formatValue(3, 'suffix: apps'), '3 apps');
    assert.equal(U.formatValue(3, 'lines'), '3 lines');
  });
  it('decimals: automatic like Grafana, or fixed', () => {
    assert.equal(U.toFixed(1.5), '1.50');
    assert.equal(U.toFixed(0.123), '0.123');
    assert.equal(U.toFixed(100), '100');
    assert.equal(U.toFixed(3.14159, 2), '3.14');
    assert.equal(U.toFixed(3, 2), '3.00');
  });
});
