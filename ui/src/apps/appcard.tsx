// One app (or non-Dokku container) on the apps page: its process types, last deploy, lines and
// errors per minute, last error, and each of its containers.
import { For, Show } from 'solid-js';
import { exploreUrl, linkClick } from '../router';
import { sparkline } from '../spark';
import { stripAnsi } from '../ansi';
import { fmtTime, nsToMs } from '../time';
import { ContainerRow } from './containerrow';
import { fmtAgo, fmtTook, parseTs } from './format';
import type { RestartWatch } from './restarts';
import type { AppInfo } from './types';

const ERR = 'detected_level=~"error|critical|fatal"';
export const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
export const restartsOf = (a: AppInfo) => a.containers.reduce((n, c) => n + c.restart_count, 0);

export function AppCard(props: { app: AppInfo; now: number; watch: RestartWatch }) {
  const a = () => props.app;
  const looping = () => a().containers.some((c) => props.watch.looping(c, props.now));
  const running = () => a().containers.filter((c) => c.state === 'running').length;
  return (
    <div class="app-card" classList={{ looping: looping() }} role="listitem" data-testid="app" data-name={a().name} data-kind={a().kind}>
      <div class="app-top">
        <div class="app-name">
          <a href={exploreUrl(a().selector)} onClick={linkClick} data-testid="app-link" title="Open its logs in Explore">
            {a().name}
          </a>
          <span class="badge">{a().kind}</span>
        </div>
        <div class="app-procs">
          <For each={a().process_types}>{(p) => <span class="chip small">{p}</span>}</For>
          <span class="muted small" data-testid="containers">
            {a().containers.length ? `${running()}/${a().containers.length} running` : 'no container state recorded'}
          </span>
        </div>
        <div class="app-metric">
          <span class="num" data-testid="lines-hour">
            {sum(a().lines_per_minute)}
          </span>
          <span class="muted small">lines/h</span>
          <span innerHTML={sparkline(a().lines_per_minute, '#3e8ef7')} title="Log lines per minute, last hour" />
        </div>
        <div class="app-metric">
          <span class="num" classList={{ bad: sum(a().errors_per_minute) > 0 }} data-testid="errors-hour">
            {sum(a().errors_per_minute)}
          </span>
          <span class="muted small">errors/h</span>
          <span innerHTML={sparkline(a().errors_per_minute, '#e5484d')} title="Error lines per minute, last hour" />
        </div>
        <div class="app-side">
          <div class="app-deploy small" data-testid="last-deploy">
            <Show when={a().last_deploy} fallback={<span class="muted">no deploy recorded</span>}>
              {(d) => (
                <>
                  <span class="muted">⇪ deployed </span>
                  <time title={fmtTime(parseTs(d().at) ?? 0, false)}>{fmtAgo(parseTs(d().at) ?? 0, props.now)}</time>
                  <span class="muted"> · </span>
                  <span class="deploy-image" title={`${d().old_image ?? '?'} (${d().old_image_id ?? '?'}) → ${d().image} (${d().image_id ?? '?'})`}>
                    {d().image}
                  </span>
                  <Show when={d().took_seconds !== null}>
                    <span class="muted"> · took {fmtTook(d().took_seconds!)}</span>
                  </Show>
                  <span class="muted"> · </span>
                  <a href={exploreUrl(a().selector, String(parseTs(d().at) ?? 'now-1h'), 'now')} onClick={linkClick} data-testid="since-deploy" title="This app's lines since this deploy: the new containers only">
                    logs since then
                  </a>
                </>
              )}
            </Show>
          </div>
          <div class="app-lasterr" data-testid="last-error">
            <Show when={a().last_error} fallback={<span class="muted small">no recent errors</span>}>
              {(le) => (
                <a href={exploreUrl(`${a().selector} | ${ERR}`, 'now-24h')} onClick={linkClick} class="errline" title={stripAnsi(le().line)}>
                  <time class="muted small">{fmtTime(nsToMs(le().ts), false)}</time> {stripAnsi(le().line)}
                </a>
              )}
            </Show>
          </div>
        </div>
      </div>
      <Show when={a().containers.length}>
        <div class="ctr-list" role="list" data-testid="container-list">
          <For each={a().containers}>{(c) => <ContainerRow c={c} now={props.now} looping={props.watch.looping(c, props.now)} />}</For>
        </div>
      </Show>
    </div>
  );
}
