// The container view's header: name, state, health, restarts, uptime or exit, image; links back
// to its app and to Explore.
import { Show } from 'solid-js';
import { exploreUrl, linkClick } from '../../router';
import { HealthBadge, StateBadge } from '../containerrow';
import { exitText, lifeText, parseTs } from '../format';
import { fmtTime } from '../../time';
import { shortId, type Container } from '../types';

export function Header(props: { c: Container; now: number; looping: boolean; logQuery: string }) {
  const c = () => props.c;
  const appUrl = () => `/apps?${new URLSearchParams({ q: c().app ?? c().name })}`;
  return (
    <div class="cv-head">
      <div class="cv-crumbs small" role="navigation" aria-label="Breadcrumb">
        <a href="/apps" onClick={linkClick}>
          Apps
        </a>
        <span class="muted"> / </span>
        <a href={appUrl()} onClick={linkClick} data-testid="cv-app-link">
          {c().app ?? c().name}
        </a>
        <span class="grow" />
        <a href={exploreUrl(props.logQuery)} onClick={linkClick} data-testid="cv-explore-link">
          Open in Explore
        </a>
      </div>
      <div class="cv-title">
        <h1 data-testid="cv-name">{c().name}</h1>
        <StateBadge state={c().state} looping={props.looping} />
        <HealthBadge health={c().health} />
        <span class="restarts" classList={{ some: c().restart_count > 0, bad: props.looping }} data-testid="restarts">
          {props.looping ? '⟳ crash loop · ' : ''}
          {c().restart_count} restart{c().restart_count === 1 ? '' : 's'}
        </span>
        <span class="life muted" data-testid="life">
          {lifeText(c(), props.now)}
        </span>
        <Show when={c().state !== 'running' && exitText(c())}>
          <span class="exit" classList={{ bad: c().exit_code !== 0 || c().oom_killed }} data-testid="exit">
            {exitText(c())}
          </span>
        </Show>
      </div>
      <div class="cv-facts small muted">
        <span title={c().id}>id {shortId(c().id)}</span>
        <Show when={c().docker_name !== c().name}>
          <span>docker name {c().docker_name}</span>
        </Show>
        <span class="cv-image" title={c().image_id ?? ''}>
          image {c().image}
        </span>
        <Show when={parseTs(c().created_at)}>{(t) => <span>created {fmtTime(t(), false)}</span>}</Show>
      </div>
    </div>
  );
}
