// One container on the apps page: state, health, restarts, uptime or exit, image; links to its view.
import { Show } from 'solid-js';
import { linkClick } from '../router';
import { exitText, lifeText, stateTone } from './format';
import { containerUrl, shortId, type Container } from './types';

export function StateBadge(props: { state: string; looping?: boolean }) {
  return (
    <span class={`state ${props.looping ? 'bad' : stateTone(props.state)}`} data-testid="state" data-state={props.state}>
      {props.state}
    </span>
  );
}

export function HealthBadge(props: { health: string | null }) {
  return (
    <Show when={props.health}>
      <span class={`health ${props.health === 'healthy' ? 'ok' : props.health === 'unhealthy' ? 'bad' : 'warn'}`} data-testid="health" title="Health check">
        {props.health}
      </span>
    </Show>
  );
}

export function ContainerRow(props: { c: Container; now: number; looping: boolean }) {
  const c = () => props.c;
  return (
    <div class="ctr-row" classList={{ looping: props.looping }} role="listitem" data-testid="container" data-name={c().name} data-id={shortId(c().id)}>
      <StateBadge state={c().state} looping={props.looping} />
      <a class="ctr-name" href={containerUrl(c().id)} onClick={linkClick} data-testid="container-link" title={`${c().docker_name} (${shortId(c().id)})`}>
        {c().name}
      </a>
      <span class="ctr-health">
        <HealthBadge health={c().health} />
      </span>
      <span class="restarts" classList={{ some: c().restart_count > 0, bad: props.looping }} data-testid="restarts" title={props.looping ? 'Crash loop: restarting again and again' : 'Restarts by the Docker engine'}>
        {props.looping ? '⟳ crash loop · ' : ''}
        {c().restart_count} restart{c().restart_count === 1 ? '' : 's'}
      </span>
      <span class="life muted" data-testid="life">
        {lifeText(c(), props.now)}
      </span>
      <span class="ctr-exit">
        <Show when={c().state !== 'running' && exitText(c())}>
          <span class="exit" classList={{ bad: c().exit_code !== 0 || c().oom_killed }} data-testid="exit">
            {exitText(c())}
          </span>
        </Show>
      </span>
      <span class="image muted" title={`${c().image}${c().image_id ? ` (${c().image_id})` : ''}`}>
        {c().image}
      </span>
    </div>
  );
}
