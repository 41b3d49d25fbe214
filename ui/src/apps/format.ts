// Words and numbers for container facts: ages, uptimes, sizes, states.
import type { Container } from './types';

/** "4s", "12m 3s", "3h 20m", "5d 2h": a duration for uptime. */
export function fmtSpan(ms: number) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** "just now", "5 min ago", "3 h ago", "2 d ago". */
export function fmtAgo(ms: number, now: number) {
  const s = Math.round((now - ms) / 1000);
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function fmtBytes(b: number) {
  if (b < 1024) return `${b} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = b / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export const fmtPercent = (p: number) => `${p < 10 ? p.toFixed(1) : Math.round(p)} %`;

export const fmtTook = (s: number) => (s < 60 ? `${s < 10 ? s.toFixed(1) : Math.round(s)} s` : fmtSpan(s * 1000));

export const parseTs = (t: string | null) => {
  if (!t) return null;
  const ms = Date.parse(t);
  // Docker's zero time ("0001-01-01T00:00:00Z") means "never".
  return Number.isFinite(ms) && ms > 0 ? ms : null;
};

/** The colour class of a state badge. */
export function stateTone(state: string) {
  if (state === 'running') return 'ok';
  if (state === 'restarting' || state === 'dead') return 'bad';
  if (state === 'paused' || state === 'created' || state === 'removing') return 'warn';
  return 'off';
}

/** "exit 137 (OOM)", "exit 0". */
export function exitText(c: Pick<Container, 'exit_code' | 'oom_killed'>) {
  if (c.exit_code === null && !c.oom_killed) return '';
  return `exit ${c.exit_code ?? '?'}${c.oom_killed ? ' (OOM)' : ''}`;
}

/** The uptime of a running container, or how long ago it stopped. */
export function lifeText(c: Container, now: number) {
  const started = parseTs(c.started_at);
  const finished = parseTs(c.finished_at);
  if (c.state === 'running' || c.state === 'paused') return started ? `up ${fmtSpan(now - started)}` : 'up';
  if (finished) return `stopped ${fmtAgo(finished, now)}`;
  return '';
}
