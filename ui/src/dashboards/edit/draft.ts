// The dashboard being edited: a working copy, the saved copy it started from, and whether they
// differ. Leaving with unsaved changes asks first: closing or reloading the tab (beforeunload) and
// the UI's own links (the router's leave guard).
import { createMemo, createSignal, onCleanup } from 'solid-js';
import { setLeaveGuard } from '../../router';
import { canonical } from './diff';
import { clone, type Dashboard, type Panel } from './shape';
import type { Meta } from './api';

export interface Draft {
  dash: () => Dashboard;
  set: (d: Dashboard) => void;
  update: (f: (d: Dashboard) => Dashboard) => void;
  setPanels: (f: (ps: Panel[]) => Panel[]) => void;
  meta: () => Meta;
  dirty: () => boolean;
  /** The saved copy changed (saved, restored, reloaded): it is the new baseline. */
  rebase: (d: Dashboard, meta: Meta) => void;
  /** Back to the saved copy. */
  discard: () => void;
  saved: () => Dashboard;
}

/** Must be created inside a component: it installs the leave guards for its lifetime. */
export function createDraft(initial: Dashboard, initialMeta: Meta): Draft {
  const [saved, setSaved] = createSignal(clone(initial));
  const [dash, setDash] = createSignal(clone(initial));
  const [meta, setMeta] = createSignal(initialMeta);
  const savedText = createMemo(() => canonical(saved()));
  const dirty = createMemo(() => canonical(dash()) !== savedText());
  const onBeforeUnload = (e: BeforeUnloadEvent) => {
    if (!dirty()) return;
    e.preventDefault();
    e.returnValue = '';
  };
  window.addEventListener('beforeunload', onBeforeUnload);
  const release = setLeaveGuard((to) => {
    // Moving inside this dashboard's editor keeps the draft.
    if (initial.uid && new URL(to, location.href).pathname.startsWith(`/d/${initial.uid}`)) return true;
    return !dirty() || confirm('This dashboard has unsaved changes. Leave and lose them?');
  });
  onCleanup(() => {
    window.removeEventListener('beforeunload', onBeforeUnload);
    release();
  });
  return {
    dash,
    set: setDash,
    update: (f) => setDash((d) => f(d)),
    setPanels: (f) => setDash((d) => ({ ...d, panels: f(d.panels ?? []) })),
    meta,
    dirty,
    rebase: (d, m) => {
      setSaved(clone(d));
      setDash(clone(d));
      setMeta(m);
    },
    discard: () => setDash(clone(saved())),
    saved,
  };
}
