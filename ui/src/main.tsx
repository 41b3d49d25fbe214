import { render } from 'solid-js/web';
import { ErrorBoundary, lazy, Match, Show, Suspense, Switch } from 'solid-js';
import { linkClick, path, search } from './router';
import Apps from './apps/page';
import { setTheme, theme } from './theme';
import Login from './login';
import { loadSession, logout, session } from './session';
import './styles.css';

const Explore = lazy(() => import('./explore'));
const ContainerView = lazy(() => import('./apps/container/page'));
const Status = lazy(() => import('./status'));
const Alerting = lazy(() => import('./alerting'));
const Dashboards = lazy(() => import('./dashboards'));
const DashEdit = lazy(() => import('./dashboards/edit/page'));
const DashImport = lazy(() => import('./dashboards/edit/importpage'));
const wantsEdit = (s: string) => /[?&](edit=1|editPanel=|editview=)/.test(s);

function ThemeToggle() {
  const flip = () => setTheme(theme() === 'dark' ? 'light' : 'dark');
  return (
    <button class="icon" onClick={flip} aria-label={`Switch to ${theme() === 'dark' ? 'light' : 'dark'} theme`} title="Theme" data-testid="theme-toggle">
      {theme() === 'dark' ? '☀' : '☾'}
    </button>
  );
}

function UserMenu() {
  return (
    <Show when={session()?.user}>
      <span class="user small" data-testid="user">
        {session()!.user}
      </span>
      <Show when={session()?.via === 'session'}>
        <button onClick={logout} data-testid="logout">
          Log out
        </button>
      </Show>
    </Show>
  );
}

function App() {
  const isLogin = () => path() === '/login';
  const isExplore = () => path().startsWith('/explore');
  const isStatus = () => path().startsWith('/status');
  const isAlerting = () => path().startsWith('/alerting');
  const isDash = () => path().startsWith('/dashboards') || path().startsWith('/dashboard/') || path().startsWith('/d/');
  // The Explore link returns to the last explore URL of this tab.
  const lastExplore = () => {
    path();
    try {
      return sessionStorage.getItem('bitacora.lastExplore') ?? '/explore';
    } catch {
      return '/explore';
    }
  };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/apps" onClick={linkClick}>
          Bitácora
        </a>
        <Show when={!isLogin()}>
          <nav aria-label="Main">
            <a href="/apps" onClick={linkClick} aria-current={!isExplore() && !isStatus() && !isAlerting() && !isDash() ? 'page' : undefined}>
              Apps
            </a>
            <a href={lastExplore()} onClick={(e) => (isExplore() ? e.preventDefault() : linkClick(e))} aria-current={isExplore() ? 'page' : undefined}>
              Explore
            </a>
            <a href="/dashboards" onClick={linkClick} aria-current={isDash() ? 'page' : undefined}>
              Dashboards
            </a>
            <a href="/alerting" onClick={linkClick} aria-current={isAlerting() ? 'page' : undefined}>
              Alerting
            </a>
            <a href="/status" onClick={linkClick} aria-current={isStatus() ? 'page' : undefined}>
              Status
            </a>
          </nav>
        </Show>
        <span class="grow" />
        <Show when={!isLogin()}>
          <UserMenu />
        </Show>
        <ThemeToggle />
      </header>
      <main id="main">
        <ErrorBoundary
          fallback={(err, reset) => (
            <div class="error" role="alert">
              <p>Something went wrong on this page: {String(err?.message ?? err)}</p>
              <button onClick={reset}>Try again</button>
            </div>
          )}
        >
          <Suspense fallback={<div class="muted pad">Loading…</div>}>
            <Switch fallback={<Apps />}>
              <Match when={isLogin()}>
                <Login />
              </Match>
              <Match when={isExplore()}>
                <Explore />
              </Match>
              <Match when={path().startsWith('/apps/container/')}>
                <ContainerView />
              </Match>
              <Match when={isStatus()}>
                <Status />
              </Match>
              <Match when={isAlerting()}>
                <Alerting />
              </Match>
              <Match when={path() === '/dashboards/import'}>
                <DashImport />
              </Match>
              <Match when={path() === '/dashboard/new' || (path().startsWith('/d/') && wantsEdit(search()))}>
                <DashEdit />
              </Match>
              <Match when={isDash()}>
                <Dashboards />
              </Match>
            </Switch>
          </Suspense>
        </ErrorBoundary>
      </main>
    </>
  );
}

if (path() !== '/login') void loadSession();
render(() => <App />, document.getElementById('root')!);
