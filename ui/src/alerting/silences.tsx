// The silences tab (Alertmanager's /api/v2/silences): the list with each silence's state, a form
// to create one (prefilled from an alert's labels by "Silence" on an alert), and expiring.
import { createMemo, createSignal, For, onCleanup, onMount, Show } from 'solid-js';
import { search } from '../router';
import { session } from '../session';
import { createSilence, expireSilence, loadSilences, matcherText, type Matcher, type Silence } from './api';
import { fmtAbs, fmtAgo, parsePromDuration, timeMs } from './format';

type Op = '=' | '!=' | '=~' | '!~';
interface Row {
  name: string;
  op: Op;
  value: string;
}

const DURATIONS = ['1h', '2h', '4h', '12h', '1d', '3d', '7d'];
const STATE_ORDER: Record<string, number> = { active: 0, pending: 1, expired: 2 };

function toMatcher(r: Row): Matcher {
  return { name: r.name.trim(), value: r.value, isRegex: r.op.includes('~'), isEqual: !r.op.startsWith('!') };
}

function prefill(): Row[] {
  try {
    const l = JSON.parse(new URLSearchParams(search()).get('labels') ?? 'null');
    if (l && typeof l === 'object') return Object.entries(l).map(([name, value]) => ({ name, op: '=' as Op, value: String(value) }));
  } catch {}
  return [];
}

export default function Silences() {
  const [list, setList] = createSignal<Silence[] | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const [showExpired, setShowExpired] = createSignal(false);
  const [now, setNow] = createSignal(Date.now());
  const initial = prefill();
  const [creating, setCreating] = createSignal(initial.length > 0);

  async function refresh() {
    try {
      setList(await loadSilences());
      setError(null);
    } catch (e: any) {
      setError(e?.message ?? String(e));
    }
    setNow(Date.now());
  }
  onMount(() => {
    void refresh();
    const t = setInterval(() => void refresh(), 10000);
    onCleanup(() => clearInterval(t));
  });

  const shown = createMemo(() =>
    (list() ?? [])
      .filter((s) => showExpired() || s.status?.state !== 'expired')
      .sort((a, b) => (STATE_ORDER[a.status?.state] ?? 3) - (STATE_ORDER[b.status?.state] ?? 3) || (timeMs(b.startsAt) ?? 0) - (timeMs(a.startsAt) ?? 0)),
  );
  const expiredCount = () => (list() ?? []).filter((s) => s.status?.state === 'expired').length;

  async function expire(id: string) {
    try {
      await expireSilence(id);
    } catch (e: any) {
      setError(e?.message ?? String(e));
    }
    await refresh();
  }

  return (
    <div class="al-silences">
      <div class="toolbar">
        <button class="primary" onClick={() => setCreating(!creating())} aria-expanded={creating()} data-testid="new-silence">
          New silence
        </button>
        <label class="inline">
          <input type="checkbox" checked={showExpired()} onChange={(e) => setShowExpired(e.currentTarget.checked)} data-testid="show-expired" /> Show expired ({expiredCount()})
        </label>
      </div>
      <Show when={creating()}>
        <SilenceForm
          initial={initial}
          onDone={async (id) => {
            setCreating(false);
            await refresh();
            if (id) document.querySelector(`[data-silence-id="${CSS.escape(id)}"]`)?.scrollIntoView({ block: 'nearest' });
          }}
          onCancel={() => setCreating(false)}
        />
      </Show>
      <Show when={error()}>
        <div class="error" role="alert" data-testid="silences-error">
          {error()}
        </div>
      </Show>
      <Show when={list() === null && !error()}>
        <div class="muted pad">Loading silences…</div>
      </Show>
      <Show when={list() && shown().length === 0}>
        <div class="hint" data-testid="no-silences">
          No {showExpired() ? '' : 'active or pending '}silences. A silence mutes the notifications of the alerts its matchers select, for a while; the alerts still show on the rules tab.
        </div>
      </Show>
      <For each={shown()}>
        {(s) => (
          <article class={`panel al-silence al-silence-${s.status?.state}`} data-testid="silence" data-silence-id={s.id} data-state={s.status?.state}>
            <div class="panel-head">
              <span class={`al-state al-s-${s.status?.state}`} data-testid="silence-state">
                {s.status?.state}
              </span>
              <span class="al-labels">
                <For each={s.matchers}>{(m) => <span class="al-label">{matcherText(m)}</span>}</For>
              </span>
              <span class="grow" />
              <Show when={s.status?.state !== 'expired'}>
                <button class="al-quiet" onClick={() => void expire(s.id)} data-testid="expire-silence">
                  Expire
                </button>
              </Show>
            </div>
            <div class="small al-silence-meta">
              <span title={fmtAbs(timeMs(s.startsAt))}>
                {s.status?.state === 'pending' ? 'starts' : 'started'} {fmtAgo(timeMs(s.startsAt), now())}
              </span>
              <span title={fmtAbs(timeMs(s.endsAt))}>
                {s.status?.state === 'expired' ? 'ended' : 'ends'} {fmtAgo(timeMs(s.endsAt), now())} ({fmtAbs(timeMs(s.endsAt))})
              </span>
              <span class="muted">by {s.createdBy || 'unknown'}</span>
              <span class="muted mono">{s.id}</span>
            </div>
            <Show when={s.comment}>
              <p class="al-comment">{s.comment}</p>
            </Show>
          </article>
        )}
      </For>
    </div>
  );
}

function SilenceForm(props: { initial: Row[]; onDone: (id: string) => void; onCancel: () => void }) {
  const [rows, setRows] = createSignal<Row[]>(props.initial.length ? props.initial : [{ name: 'alertname', op: '=', value: '' }]);
  const [duration, setDuration] = createSignal('2h');
  const [comment, setComment] = createSignal('');
  const [createdBy, setCreatedBy] = createSignal(session()?.user ?? 'bitacora-ui');
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const upd = (i: number, patch: Partial<Row>) => setRows(rows().map((r, j) => (j === i ? { ...r, ...patch } : r)));

  async function submit() {
    setError(null);
    const ms = rows().filter((r) => r.name.trim() || r.value);
    if (!ms.length) return setError('Matchers: a silence needs at least one matcher.');
    for (const r of ms) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(r.name.trim())) return setError(`Matchers: "${r.name}" is not a label name.`);
      if (r.op.includes('~'))
        try {
          new RegExp(r.value);
        } catch (e: any) {
          return setError(`Matchers: ${r.name}${r.op}"${r.value}" is not a regular expression (${e?.message}).`);
        }
    }
    if (ms.every((r) => (r.op === '=~' && /^(\.\*)?$/.test(r.value)) || (r.op === '=' && r.value === ''))) return setError('Matchers: these matchers would match every alert; name at least one label value.');
    const sec = parsePromDuration(duration());
    if (!sec || sec <= 0) return setError(`Duration: "${duration()}" is not a duration (like 2h, 1d, 30m).`);
    if (!comment().trim()) return setError('Comment: say why the alerts are silenced.');
    const start = Date.now();
    setBusy(true);
    try {
      const id = await createSilence({
        matchers: ms.map(toMatcher),
        startsAt: new Date(start).toISOString(),
        endsAt: new Date(start + sec * 1000).toISOString(),
        createdBy: createdBy().trim() || 'bitacora-ui',
        comment: comment().trim(),
      });
      props.onDone(id);
    } catch (e: any) {
      setError(e?.message ?? String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="panel al-silence-form" onSubmit={(e) => (e.preventDefault(), void submit())} data-testid="silence-form" aria-label="New silence">
      <div class="panel-head">
        <strong>New silence</strong>
        <span class="muted small">mutes the notifications of every alert whose labels match all the matchers</span>
      </div>
      <h3>Matchers</h3>
      <For each={rows()}>
        {(r, i) => (
          <div class="al-kv-row">
            <input value={r.name} onInput={(e) => upd(i(), { name: e.currentTarget.value })} placeholder="label" aria-label="Label name" data-testid="matcher-name" />
            <select value={r.op} onChange={(e) => upd(i(), { op: e.currentTarget.value as Op })} aria-label="Match" data-testid="matcher-op">
              <For each={['=', '!=', '=~', '!~']}>{(o) => <option value={o}>{o}</option>}</For>
            </select>
            <input class="grow" value={r.value} onInput={(e) => upd(i(), { value: e.currentTarget.value })} placeholder="value" aria-label="Label value" data-testid="matcher-value" />
            <button type="button" class="icon" onClick={() => setRows(rows().filter((_, j) => j !== i()))} aria-label={`Remove matcher ${r.name}`}>
              ✕
            </button>
          </div>
        )}
      </For>
      <button type="button" class="al-quiet" onClick={() => setRows([...rows(), { name: '', op: '=', value: '' }])} data-testid="matcher-add">
        + Add matcher
      </button>
      <div class="al-fields">
        <label class="al-field">
          <span>Duration</span>
          <input value={duration()} onInput={(e) => setDuration(e.currentTarget.value)} list="al-durations" data-testid="silence-duration" />
          <datalist id="al-durations">
            <For each={DURATIONS}>{(d) => <option value={d} />}</For>
          </datalist>
        </label>
        <label class="al-field">
          <span>Created by</span>
          <input value={createdBy()} onInput={(e) => setCreatedBy(e.currentTarget.value)} data-testid="silence-created-by" />
        </label>
        <label class="al-field al-wide">
          <span>Comment</span>
          <input value={comment()} onInput={(e) => setComment(e.currentTarget.value)} placeholder="deploying the new release" data-testid="silence-comment" />
        </label>
      </div>
      <Show when={error()}>
        <div class="error" role="alert" data-testid="silence-error">
          {error()}
        </div>
      </Show>
      <div class="al-form-foot">
        <button class="primary" type="submit" disabled={busy()} data-testid="create-silence">
          {busy() ? 'Creating…' : 'Create silence'}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
