// Dashboards: the list (/dashboards) and one dashboard (/d/<uid>/<slug>), loaded lazily as a page.
import './dashboards.css';
import { Match, Switch } from 'solid-js';
import { path } from '../router';
import DashboardList from './list';
import DashboardPage from './view';

export default function Dashboards() {
  return (
    <Switch fallback={<DashboardList />}>
      <Match when={path().startsWith('/d/')}>
        <DashboardPage />
      </Match>
    </Switch>
  );
}
