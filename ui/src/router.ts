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

/** Client-side navigation (pushState); the server answers every UI path with index.html too. */
export function navigate(url: string) {
  history.pushState(null, '', url);
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
