import { batch, createSignal } from 'solid-js';

const [path, setPath] = createSignal(location.pathname);
const [search, setSearch] = createSignal(location.search);
// Path and query change together: a page that mounts on the new path reads the new query.
const sync = () =>
  batch(() => {
    setPath(location.pathname);
    setSearch(location.search);
  });
window.addEventListener('popstate', sync);

export { path, search };

type LeaveGuard = (to: string) => boolean;
let leaveGuard: LeaveGuard | null = null;

/** A page with unsaved work asks before the UI navigates away (answer false to stay). Returns the release. */
export function setLeaveGuard(g: LeaveGuard) {
  leaveGuard = g;
  return () => {
    if (leaveGuard === g) leaveGuard = null;
  };
}

/** Client-side navigation (pushState); the server answers every UI path with index.html too. */
export function navigate(url: string, opts: { replace?: boolean; force?: boolean } = {}) {
  if (!opts.force && leaveGuard && !leaveGuard(url)) return;
  if (opts.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  sync();
  window.scrollTo(0, 0);
}

/** onClick for <a href> links: client-side unless a modifier asks for a new tab. */
export function linkClick(e: MouseEvent) {
  const a = e.currentTarget as HTMLAnchorElement;
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.getAttribute('href')!);
}

export function exploreUrl(query: string, from = 'now-1h', to = 'now') {
  return `/explore?${new URLSearchParams({ query, from, to })}`;
}
