// Alerting (/alerting): rules and their alerts, the rule editor, the alerts' history, silences and
// receivers, one tab each; the tab is the URL's path.
import './alerting.css';
import { Match, Switch } from 'solid-js';
import { linkClick, path } from '../router';
import Rules from './rules';
import Editor from './editor';
import History from './history';
import Silences from './silences';
import Receivers from './receivers';

const TABS: [string, string][] = [
  ['/alerting', 'Rules'],
  ['/alerting/history', 'History'],
  ['/alerting/silences', 'Silences'],
  ['/alerting/receivers', 'Receivers'],
];

/** The rule an edit path names: /alerting/edit/<namespace>/<group>/<rule>. */
function editTarget(p: string) {
  const parts = p.split('/').slice(3).map((s) => decodeURIComponent(s));
  return parts.length === 3 && parts.every((x) => x) ? { ns: parts[0], group: parts[1], rule: parts[2] } : null;
}

export default function Alerting() {
  const sub = () => path().replace(/\/+$/, '') || '/alerting';
  const tab = () => {
    const p = sub();
    if (p.startsWith('/alerting/new') || p.startsWith('/alerting/edit')) return '/alerting';
    return TABS.find(([t]) => t === p)?.[0] ?? '/alerting';
  };
  return (
    <div class="alerting">
      <nav class="al-tabs" aria-label="Alerting">
        {TABS.map(([href, label]) => (
          <a href={href} onClick={linkClick} aria-current={tab() === href ? 'page' : undefined} data-testid={`tab-${label.toLowerCase()}`}>
            {label}
          </a>
        ))}
      </nav>
      <Switch fallback={<Rules />}>
        <Match when={sub() === '/alerting/new'}>
          <Editor />
        </Match>
        <Match when={sub().startsWith('/alerting/edit/') && editTarget(sub()) && sub()} keyed>
          {(p) => <Editor target={editTarget(p)!} />}
        </Match>
        <Match when={sub().startsWith('/alerting/edit')}>
          <div class="error" role="alert">
            This edit link does not name a rule: it should be /alerting/edit/&lt;namespace&gt;/&lt;group&gt;/&lt;rule&gt;.
          </div>
        </Match>
        <Match when={sub() === '/alerting/history'}>
          <History />
        </Match>
        <Match when={sub() === '/alerting/silences'}>
          <Silences />
        </Match>
        <Match when={sub() === '/alerting/receivers'}>
          <Receivers />
        </Match>
      </Switch>
    </div>
  );
}
