// Crash loops: a container restarting now, or whose restart count grew while the page watched,
// or that restarted and has been up less than a minute.
import type { Container } from './types';
import { parseTs } from './format';

export class RestartWatch {
  private seen = new Map<string, number>();
  private grew = new Set<string>();

  /** Records this poll's restart counts (call once per answer). */
  observe(containers: Container[]) {
    for (const c of containers) {
      const before = this.seen.get(c.id);
      if (before !== undefined && c.restart_count > before) this.grew.add(c.id);
      this.seen.set(c.id, c.restart_count);
    }
  }

  looping(c: Container, now: number) {
    if (c.state === 'restarting') return true;
    const started = parseTs(c.started_at);
    return c.restart_count > 0 && (this.grew.has(c.id) || (started !== null && now - started < 60_000));
  }
}
