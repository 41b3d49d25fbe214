// Docker event lines (logfmt, contract 13 A) as rows a person reads: "✖ died exit 137 (OOM)".

/** A logfmt line's fields (`key=value`, `key="quoted value"`). */
export function logfmt(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([^\s=]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g;
  for (const m of line.matchAll(re)) out[m[1]] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  return out;
}

export interface EventView {
  event: string;
  icon: string;
  text: string;
  tone: 'ok' | 'bad' | 'warn' | 'info';
}

/** What an event line says, in words; null when the line is not an event. */
export function describeEvent(line: string): EventView | null {
  const f = logfmt(line);
  const ev = f.event;
  if (!ev) return null;
  const oom = f.oom === 'true';
  switch (ev) {
    case 'deploy':
      return { event: ev, icon: '⇪', text: `deployed ${f.image ?? ''}${f.image_id ? ` (${f.image_id})` : ''}${f.old_id ? `, replacing ${f.old_id}` : ''}${f.took ? `, took ${f.took}` : ''}`, tone: 'ok' };
    case 'die': {
      const code = f.exit_code ?? '?';
      return { event: ev, icon: '✖', text: `died exit ${code}${oom ? ' (OOM)' : ''}`, tone: code !== '0' || oom ? 'bad' : 'info' };
    }
    case 'oom':
      return { event: ev, icon: '✖', text: 'out of memory (OOM kill)', tone: 'bad' };
    case 'restart':
      return { event: ev, icon: '⟳', text: 'restarted', tone: 'warn' };
    case 'start':
      return { event: ev, icon: '▶', text: 'started', tone: 'ok' };
    case 'create':
      return { event: ev, icon: '✚', text: `created from ${f.image ?? 'its image'}`, tone: 'info' };
    case 'stop':
      return { event: ev, icon: '■', text: 'stopped', tone: 'info' };
    case 'kill':
      return { event: ev, icon: '⚡', text: `killed${f.signal ? ` (signal ${f.signal})` : ''}`, tone: 'warn' };
    case 'pause':
      return { event: ev, icon: '⏸', text: 'paused', tone: 'warn' };
    case 'unpause':
      return { event: ev, icon: '▶', text: 'unpaused', tone: 'ok' };
    case 'destroy':
      return { event: ev, icon: '✕', text: 'removed', tone: 'info' };
    case 'rename':
      return { event: ev, icon: '✎', text: `renamed${f.old_name ? ` from ${f.old_name}` : ''} to ${f.new_name ?? f.container ?? '?'}`, tone: 'info' };
    case 'health_status':
      return { event: ev, icon: '♥', text: `health: ${f.health ?? '?'}`, tone: f.health === 'unhealthy' ? 'bad' : f.health === 'healthy' ? 'ok' : 'warn' };
    default:
      return { event: ev, icon: '•', text: ev, tone: 'info' };
  }
}
