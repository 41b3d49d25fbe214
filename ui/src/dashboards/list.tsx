// The dashboards list (/dashboards): search by title, filter by tags, grouped by folder; the
// query and tags live in the URL (?query=&tag=).
import { createResource, createSignal, For, Show } from 'solid-js';
import { linkClick, navigate } from '../router';
import { dashboardTags, searchDashboards, type SearchHit } from './api';

export default function DashboardList() {
  const p = new URLSearchParams(location.search);
  const [query, setQuery] = createSignal(p.get('query') ?? '');
  const [tags, setTags] = createSignal<string[]>(p.getAll('tag'));
  const [hits] = createResource(() => ({ q: query(), t: tags() }), ({ q, t }) => searchDashboards(q, t));
  const [allTags] = createResource(() => dashboardTags().catch(() => []));
  const write = () => {
    const u = new URLSearchParams();
    if (query()) u.set('query', query());
    for (const t of tags()) u.append('tag', t);
    history.replaceState(null, '', `/dashboards${u.size ? `?${u}` : ''}`);
  };
  const toggleTag = (t: string) => {
    setTags(tags().includes(t) ? tags().filter((x) => x !== t) : [...tags(), t]);
    write();
  };
  const byFolder = () => {
    const m = new Map<string, SearchHit[]>();
    for (const h of (hits() ?? []).filter((h) => h.type === 'dash-db' || !h.type)) {
      const f = h.folderTitle || 'General';
      m.set(f, [...(m.get(f) ?? []), h]);
    }
    return [...m].sort((a, b) => (a[0] === 'General' ? -1 : b[0] === 'General' ? 1 : a[0].localeCompare(b[0])));
  };
  return (
    <div class="dlist" data-testid="dashboard-list">
      <div class="dlist-head">
        <h1>Dashboards</h1>
        <input type="search" placeholder="Search dashboards by title" value={query()} onInput={(e) => (setQuery(e.currentTarget.value), write())} aria-label="Search dashboards" data-testid="dash-search" />
        <span class="dlist-actions">
          <button onClick={() => navigate('/dashboards/import')} data-testid="dash-import">
            Import
          </button>
          <button class="primary" onClick={() => navigate('/dashboard/new')} data-testid="dash-new">
            New dashboard
          </button>
        </span>
      </div>
      <Show when={allTags()?.length}>
        <div class="dtags" role="group" aria-label="Filter by tag">
          <For each={allTags()}>
            {(t) => (
              <button class="tag" classList={{ on: tags().includes(t.term) }} aria-pressed={tags().includes(t.term)} onClick={() => toggleTag(t.term)} data-testid="tag-filter">
                {t.term} <span class="muted">{t.count}</span>
              </button>
            )}
          </For>
        </div>
      </Show>
      <Show when={hits.error}>
        <div class="error" role="alert">
          {String(hits.error?.message ?? hits.error)}
        </div>
      </Show>
      <Show when={hits() && !hits()!.length}>
        <div class="empty pad">{query() || tags().length ? 'No dashboard matches.' : 'No dashboards yet.'}</div>
      </Show>
      <For each={byFolder()}>
        {([folder, list]) => (
          <section class="dfolder" aria-label={`Folder ${folder}`}>
            <h2>
              <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" class="folder-ico">
                <path d="M1.5 3.5h5l1.5 1.5h6.5v8h-13z" fill="none" stroke="currentColor" stroke-width="1.3" />
              </svg>
              {folder}
            </h2>
            <ul>
              <For each={list}>
                {(h) => (
                  <li>
                    <a href={h.url} onClick={linkClick} data-testid="dash-link">
                      {h.title}
                    </a>
                    <span class="dlist-tags">
                      <For each={h.tags ?? []}>
                        {(t) => (
                          <button class="tag small" onClick={() => toggleTag(t)} aria-pressed={tags().includes(t)}>
                            {t}
                          </button>
                        )}
                      </For>
                    </span>
                  </li>
                )}
              </For>
            </ul>
          </section>
        )}
      </For>
    </div>
  );
}
